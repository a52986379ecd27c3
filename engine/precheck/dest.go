package precheck

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"

	"tributary/engine/kafka"
	"tributary/engine/task"
)

// defaultMessageMaxBytes is Kafka's default message.max.bytes.
const defaultMessageMaxBytes = 1048588

// destState is what the destination checks share.
type destState struct {
	ready   chan struct{}
	connErr error

	cfg    *sarama.Config
	client sarama.Client
	admin  sarama.ClusterAdmin
	// api is the ApiVersions answer of the first bootstrap broker that answered.
	api     map[int16][2]int16
	apiFrom string

	meta    func() (*metaInfo, error)
	configs func() (*configInfo, error)
	acls    func() ([]sarama.ResourceAcls, error)

	closeOnce sync.Once
}

type topicInfo struct {
	exists     bool
	partitions int
	err        sarama.KError // topic error from metadata (not UNKNOWN_TOPIC)
	ops        int32
	opsKnown   bool
}

type metaInfo struct {
	topics          map[string]*topicInfo
	clusterOps      int32
	clusterOpsKnown bool
	opsSupported    bool // the broker answered Metadata v8+ (authorized operations)
	controllerID    int32
}

// unrestricted is true when the account may do everything on the cluster: no authorizer, or a
// super user.
func (m *metaInfo) unrestricted() bool {
	if !m.clusterOpsKnown {
		return false
	}
	for _, op := range []sarama.AclOperation{sarama.AclOperationCreate, sarama.AclOperationAlter, sarama.AclOperationDescribe,
		sarama.AclOperationClusterAction, sarama.AclOperationDescribeConfigs, sarama.AclOperationAlterConfigs, sarama.AclOperationIdempotentWrite} {
		if m.clusterOps&(1<<int32(op)) == 0 {
			return false
		}
	}
	return true
}

type configInfo struct {
	topicMax   map[string]int64
	topicErr   map[string]string
	brokerMax  int64
	brokerErr  string
	autoCreate string
}

func newDestState(r *runner) *destState {
	d := &destState{ready: make(chan struct{})}
	d.meta = sync.OnceValues(func() (*metaInfo, error) { return r.loadMeta() })
	d.configs = sync.OnceValues(func() (*configInfo, error) { return r.loadConfigs() })
	d.acls = sync.OnceValues(func() ([]sarama.ResourceAcls, error) {
		return d.admin.ListAcls(sarama.AclFilter{ResourceType: sarama.AclResourceTopic, ResourcePatternTypeFilter: sarama.AclPatternAny,
			Operation: sarama.AclOperationAny, PermissionType: sarama.AclPermissionAny})
	})
	return d
}

func (d *destState) close() {
	d.closeOnce.Do(func() {
		if d.admin != nil {
			d.admin.Close() // closes the client too
		} else if d.client != nil {
			d.client.Close()
		}
	})
}

// objectTopics maps each topic that receives rows to the largest "Number of Partitions" mapped
// to it and the tables that go there.
func (r *runner) objectTopics() (map[string]int, map[string][]string) {
	want := map[string]int{}
	tables := map[string][]string{}
	for i := range r.t.Objects {
		o := &r.t.Objects[i]
		tp := r.t.TopicFor(o)
		if o.Partitions > want[tp] {
			want[tp] = o.Partitions
		} else if _, ok := want[tp]; !ok {
			want[tp] = 0
		}
		tables[tp] = append(tables[tp], o.Database+"."+o.Table)
	}
	return want, tables
}

// destTopics is every topic the task writes to, sorted.
func (r *runner) destTopics() []string {
	want, _ := r.objectTopics()
	if r.incremental() {
		if _, ok := want[r.t.DDLTopic()]; !ok {
			want[r.t.DDLTopic()] = 0
		}
	}
	return sortedKeys(want)
}

func (r *runner) bootstrap() string {
	if b := r.t.Destination.Brokers; len(b) > 0 {
		return b[0]
	}
	return "<broker:port>"
}

func (r *runner) principal() string {
	if r.t.Destination.SASL.Mechanism != "" {
		return "User:" + r.t.Destination.SASL.User
	}
	if r.t.Destination.TLS.CertFile != "" {
		return "" // the certificate's distinguished name: not known here
	}
	return "User:ANONYMOUS"
}

type brokerProbe struct {
	addr     string
	ok       bool
	kind     string
	msg      string
	id       int32
	api      map[int16][2]int16
	brokers  map[int32]string // advertised by the cluster
	hasAuthz bool
}

// probe connects to one broker on its own (TCP, TLS, SASL, ApiVersions, Metadata).
func probe(addr string, cfg *sarama.Config, k *task.Kafka, topics []string) (p brokerProbe) {
	p.addr = addr
	if k.TLS.Enabled {
		if kind, msg := tlsPreflight(addr, cfg, k); kind != "" {
			p.kind, p.msg = kind, msg
			return p
		}
	}
	b := sarama.NewBroker(addr)
	if err := b.Open(cfg); err != nil {
		p.kind, p.msg = classifyKafkaErr(err, k)
		return p
	}
	defer b.Close()
	if ok, err := b.Connected(); !ok || err != nil {
		if err == nil {
			err = errors.New("not connected")
		}
		p.kind, p.msg = classifyKafkaErr(err, k)
		if p.kind == "handshake" {
			p.kind, p.msg = explainHandshake(addr, cfg, k, err, p.msg)
		}
		return p
	}
	av, err := b.ApiVersions(&sarama.ApiVersionsRequest{})
	if err != nil {
		p.kind, p.msg = classifyKafkaErr(err, k)
		return p
	}
	if av.ErrorCode != 0 {
		p.kind, p.msg = "other", "ApiVersions: "+sarama.KError(av.ErrorCode).Error()
		return p
	}
	p.api = map[int16][2]int16{}
	for _, key := range av.ApiKeys {
		p.api[key.ApiKey] = [2]int16{key.MinVersion, key.MaxVersion}
	}
	md, err := b.GetMetadata(sarama.NewMetadataRequest(cfg.Version, topics))
	if err != nil {
		p.kind, p.msg = classifyKafkaErr(err, k)
		return p
	}
	p.brokers = map[int32]string{}
	for _, br := range md.Brokers {
		p.brokers[br.ID()] = br.Addr()
	}
	p.id = -1
	for id, a := range p.brokers {
		if a == addr {
			p.id = id
		}
	}
	p.ok = true
	return p
}

// tlsPreflight runs the TLS handshake alone, with a short timeout, so that a TLS problem is
// named as such (a plaintext broker otherwise just waits for the rest of the "request").
func tlsPreflight(addr string, cfg *sarama.Config, k *task.Kafka) (kind, msg string) {
	tc := cfg.Net.TLS.Config.Clone()
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			tc.ServerName = host
		}
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", addr, tc)
	if err == nil {
		conn.Close()
		return "", ""
	}
	kind, msg = classifyKafkaErr(err, k)
	if kind == "timeout" || kind == "handshake" || kind == "other" {
		if speaksKafka(addr, cfg, func(c *sarama.Config) { c.Net.SASL.Enable = false; c.Net.TLS.Enable = false; c.Net.TLS.Config = nil }) {
			return "tls", "TLS is on, but the broker speaks plaintext Kafka on this port"
		}
		if kind == "timeout" {
			msg = "the TLS handshake got no answer within 3 s (is this a TLS listener?)"
		}
	}
	if kind == "refused" || kind == "dns" || kind == "certificate" {
		return kind, msg
	}
	return kind, "TLS handshake failed: " + msg
}

// explainHandshake finds out why a broker closed the connection during the handshake: by
// asking again without SASL (Kafka answers ApiVersions before the login), then with TLS toggled.
func explainHandshake(addr string, cfg *sarama.Config, k *task.Kafka, err error, msg string) (string, string) {
	noSASL := func(c *sarama.Config) { c.Net.SASL.Enable = false }
	switch {
	case k.SASL.Mechanism != "" && speaksKafka(addr, cfg, noSASL):
		// Brokers close the connection on a failed SASL login (kfake without an answer).
		return "authentication", fmt.Sprintf("SASL authentication of %q with %s failed: the broker answers Kafka requests but closed the connection during the SASL login (%v)", k.SASL.User, k.SASL.Mechanism, err)
	case k.TLS.Enabled && speaksKafka(addr, cfg, func(c *sarama.Config) { noSASL(c); c.Net.TLS.Enable = false; c.Net.TLS.Config = nil }):
		return "tls", "TLS is on, but the broker speaks plaintext Kafka on this port"
	case !k.TLS.Enabled && speaksTLS(addr):
		return "tls", "the broker expects TLS on this port, but TLS is off"
	}
	return "handshake", msg
}

// speaksTLS reports whether a TLS handshake with the address succeeds within 3 s (any
// certificate: this only tells what the port speaks).
func speaksTLS(addr string) bool {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// speaksKafka reports whether the broker answers ApiVersions with the changed settings.
func speaksKafka(addr string, cfg *sarama.Config, change func(*sarama.Config)) bool {
	c := *cfg
	change(&c)
	b := sarama.NewBroker(addr)
	if err := b.Open(&c); err != nil {
		return false
	}
	defer b.Close()
	if ok, err := b.Connected(); !ok || err != nil {
		return false
	}
	_, err := b.ApiVersions(&sarama.ApiVersionsRequest{})
	return err == nil
}

// classifyKafkaErr names the real cause of a broker connection failure.
func classifyKafkaErr(err error, k *task.Kafka) (kind, msg string) {
	s := err.Error()
	var dnsErr *net.DNSError
	var ne net.Error
	var certErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", "connection refused (nothing listens on that port)"
	case errors.As(err, &dnsErr):
		return "dns", "the host name cannot be resolved (" + dnsErr.Error() + ")"
	case errors.Is(err, sarama.ErrSASLAuthenticationFailed) || strings.Contains(s, "SASL Authentication failed") || strings.Contains(strings.ToLower(s), "authentication failed"):
		return "authentication", fmt.Sprintf("SASL authentication of %q with %s failed: %s", k.SASL.User, k.SASL.Mechanism, s)
	case errors.Is(err, sarama.ErrUnsupportedSASLMechanism):
		return "authentication", fmt.Sprintf("the broker does not offer the SASL mechanism %s: %s", k.SASL.Mechanism, s)
	case errors.Is(err, sarama.ErrIllegalSASLState) || strings.Contains(s, "SASL"):
		return "authentication", "the SASL handshake failed: " + s
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || strings.Contains(s, "x509:") || strings.Contains(s, "certificate"):
		return "certificate", "TLS: the broker certificate was not accepted: " + s
	case strings.Contains(s, "first record does not look like a TLS handshake"):
		return "tls", "TLS is on, but the broker does not speak TLS on this port"
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		if k.TLS.Enabled {
			return "timeout", "no answer within the timeout (host down, a firewall, or a TLS handshake the broker never answers)"
		}
		return "timeout", "no answer within the timeout (host down, a firewall drops the packets, or the port expects TLS)"
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || strings.Contains(s, "EOF") || strings.Contains(s, "connection reset"):
		switch {
		case !k.TLS.Enabled:
			return "handshake", "the broker closed the connection during the handshake: it may expect TLS (turn TLS on) or SASL, or it is not a Kafka broker (" + s + ")"
		case k.SASL.Mechanism == "":
			return "handshake", "the broker closed the connection during the handshake: it may expect SASL (" + s + ")"
		}
		return "handshake", "the broker closed the connection during the handshake (" + s + ")"
	}
	return "other", s
}

func connDestFix(kind string, r *runner) string {
	k := &r.t.Destination.Kafka
	switch kind {
	case "refused":
		return "Nothing listens on the broker address: start the broker, or correct host:port in the destination's broker list."
	case "timeout":
		return "The broker does not answer: check host and port, that the broker runs, and that no firewall or security group drops connections from this machine."
	case "dns":
		return "Correct the broker host name or use an IP address."
	case "authentication":
		return fmt.Sprintf("Check the SASL user %q, its password and the mechanism %s; the broker must list the mechanism in sasl.enabled.mechanisms, and SCRAM users must exist (kafka-configs.sh --bootstrap-server %s --alter --add-config '%s=[password=…]' --entity-type users --entity-name %s).",
			k.SASL.User, k.SASL.Mechanism, r.bootstrap(), k.SASL.Mechanism, k.SASL.User)
	case "certificate":
		return "Give the CA file that signed the broker certificate (tls.caFile), or correct tls.serverName to a name in the certificate."
	case "tls":
		return "Match the broker listener: turn TLS on for an SSL or SASL_SSL listener, off for PLAINTEXT or SASL_PLAINTEXT (or use the broker's other port)."
	case "handshake":
		return "Match the broker listener's security protocol: PLAINTEXT (no TLS, no SASL), SSL (TLS on), SASL_PLAINTEXT (SASL on) or SASL_SSL (both)."
	}
	return "Correct the destination's connection settings and try again."
}

// connectDest probes every bootstrap broker on its own, then every broker the cluster advertises,
// and reports CHECK_CONN_DEST.
func (r *runner) connectDest() {
	d := r.dest
	defer close(d.ready)
	k := &r.t.Destination.Kafka
	cfg, err := kafka.Config(k, kafka.Settings{Acks: r.t.Acks, Compression: "none", ClientID: "tributary-precheck"})
	if err != nil {
		d.connErr = err
		r.report(Item{Code: CodeConnDest, Result: ResultFailed, Details: []string{err.Error()},
			Fix: "Correct the destination settings (kafkaVersion, SASL password or passwordEnv, TLS files)."})
		return
	}
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 1
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	cfg.Metadata.AllowAutoTopicCreation = false
	cfg.Admin.Timeout = 10 * time.Second
	cfg.Admin.Retry.Max = 1
	d.cfg = cfg
	topics := r.destTopics()

	probes := make([]brokerProbe, len(k.Brokers))
	var wg sync.WaitGroup
	for i, addr := range k.Brokers {
		wg.Go(func() { probes[i] = probe(addr, cfg, k, topics) })
	}
	wg.Wait()

	security := "no TLS"
	if k.TLS.Enabled {
		security = "TLS"
	}
	if k.SASL.Mechanism != "" {
		security += fmt.Sprintf(", SASL %s as %q", k.SASL.Mechanism, k.SASL.User)
	} else {
		security += ", no SASL"
	}
	var details []string
	var good []string
	var firstBad string
	advertised := map[int32]string{}
	for _, p := range probes {
		if p.ok {
			good = append(good, p.addr)
			details = append(details, fmt.Sprintf("%s: connected (%s)", p.addr, security))
			if d.api == nil {
				d.api, d.apiFrom = p.api, p.addr
			}
			for id, a := range p.brokers {
				advertised[id] = a
			}
		} else {
			details = append(details, fmt.Sprintf("%s: %s", p.addr, p.msg))
			if firstBad == "" {
				firstBad = p.kind
			}
		}
	}
	if len(k.Brokers) == 0 {
		details = append(details, "no bootstrap broker is configured")
	}
	if len(good) == 0 {
		d.connErr = errors.New("no bootstrap broker can be reached")
		r.report(Item{Code: CodeConnDest, Result: ResultFailed, Details: details, Fix: connDestFix(firstBad, r)})
		return
	}

	// The brokers the cluster advertises are the ones the producer really talks to.
	var extra []string
	bootstrap := map[string]bool{}
	for _, a := range k.Brokers {
		bootstrap[a] = true
	}
	ids := make([]int32, 0, len(advertised))
	for id := range advertised {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var adv []string
	for _, id := range ids {
		adv = append(adv, fmt.Sprintf("%d at %s", id, advertised[id]))
		if !bootstrap[advertised[id]] {
			extra = append(extra, advertised[id])
		}
	}
	details = append(details, fmt.Sprintf("the cluster advertises %s: %s", plural(len(ids), "broker", "brokers"), strings.Join(adv, ", ")))
	advProbes := make([]brokerProbe, len(extra))
	for i, addr := range extra {
		wg.Go(func() { advProbes[i] = probe(addr, cfg, k, topics) })
	}
	wg.Wait()
	var advBad []string
	for _, p := range advProbes {
		if !p.ok {
			advBad = append(advBad, fmt.Sprintf("advertised broker %s: %s", p.addr, p.msg))
		}
	}

	client, err := sarama.NewClient(good, cfg)
	if err != nil {
		d.connErr = kafka.Explain(err, k)
		r.report(Item{Code: CodeConnDest, Result: ResultFailed, Details: append(details, d.connErr.Error()), Fix: connDestFix("other", r)})
		return
	}
	d.client = client
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		d.connErr = err
		r.report(Item{Code: CodeConnDest, Result: ResultFailed, Details: append(details, "admin client: "+err.Error()), Fix: connDestFix("other", r)})
		return
	}
	d.admin = admin

	switch {
	case len(advBad) > 0:
		r.report(Item{Code: CodeConnDest, Result: ResultFailed, Details: append(advBad, details...),
			Fix: "The producer connects to the addresses the brokers advertise: make them reachable from this machine, or set advertised.listeners on the brokers to addresses this machine can reach."})
	case len(good) < len(k.Brokers):
		r.report(Item{Code: CodeConnDest, Result: ResultWarning, Ignorable: true, Details: details,
			Fix: "Remove the unreachable brokers from the bootstrap list, or fix them: " + connDestFix(firstBad, r)})
	default:
		r.report(Item{Code: CodeConnDest, Result: ResultPassed, Details: details})
	}
}

// loadMeta asks one broker about every destination topic, with the account's authorized
// operations when the broker supports Metadata v8+ (Kafka 2.3+). It never creates topics.
func (r *runner) loadMeta() (*metaInfo, error) {
	d := r.dest
	b, err := d.client.Controller()
	if err != nil {
		b = d.client.LeastLoadedBroker()
		if b == nil {
			return nil, fmt.Errorf("no broker available: %w", err)
		}
		_ = b.Open(d.cfg)
	}
	topics := r.destTopics()
	req := sarama.NewMetadataRequest(d.cfg.Version, topics)
	req.AllowAutoTopicCreation = false
	if req.Version >= 8 {
		if req.Version > 10 {
			req.Version = 10 // the last version with cluster authorized operations
		}
		req.IncludeClusterAuthorizedOperations = true
		req.IncludeTopicAuthorizedOperations = true
	}
	resp, err := b.GetMetadata(req)
	if err != nil {
		return nil, fmt.Errorf("topic metadata: %w", err)
	}
	m := &metaInfo{topics: map[string]*topicInfo{}, controllerID: resp.ControllerID, opsSupported: resp.Version >= 8}
	if resp.Version >= 8 && resp.Version <= 10 && resp.ClusterAuthorizedOperations != math.MinInt32 {
		m.clusterOps, m.clusterOpsKnown = resp.ClusterAuthorizedOperations, true
	}
	for _, tm := range resp.Topics {
		ti := &topicInfo{}
		switch {
		case errors.Is(tm.Err, sarama.ErrNoError):
			ti.exists = true
			ti.partitions = len(tm.Partitions)
			if resp.Version >= 8 && tm.TopicAuthorizedOperations != math.MinInt32 {
				ti.ops, ti.opsKnown = tm.TopicAuthorizedOperations, true
			}
		case errors.Is(tm.Err, sarama.ErrUnknownTopicOrPartition):
		default:
			ti.err = tm.Err
		}
		m.topics[tm.Name] = ti
	}
	for _, t := range topics {
		if m.topics[t] == nil {
			m.topics[t] = &topicInfo{}
		}
	}
	if m.controllerID < 0 {
		if c, err := d.client.Controller(); err == nil {
			m.controllerID = c.ID()
		}
	}
	return m, nil
}

// loadConfigs reads max.message.bytes of the existing topics and the broker's message size
// and auto-creation settings.
func (r *runner) loadConfigs() (*configInfo, error) {
	m, err := r.dest.meta()
	if err != nil {
		return nil, err
	}
	ci := &configInfo{topicMax: map[string]int64{}, topicErr: map[string]string{}}
	var res []*sarama.ConfigResource
	for _, t := range sortedKeys(m.topics) {
		if m.topics[t].exists {
			res = append(res, &sarama.ConfigResource{Type: sarama.TopicResource, Name: t, ConfigNames: []string{"max.message.bytes"}})
		}
	}
	brokerName := strconv.Itoa(int(m.controllerID))
	res = append(res, &sarama.ConfigResource{Type: sarama.BrokerResource, Name: brokerName, ConfigNames: []string{"message.max.bytes", "auto.create.topics.enable"}})
	results, err := r.dest.admin.DescribeConfigs(res, sarama.DescribeConfigsOptions{})
	if err != nil {
		ci.brokerErr = err.Error()
		for _, rc := range res {
			if rc.Type == sarama.TopicResource {
				ci.topicErr[rc.Name] = err.Error()
			}
		}
		return ci, nil
	}
	seenBroker := false
	for _, rr := range results {
		var errText string
		if !errors.Is(rr.ErrorCode, sarama.ErrNoError) {
			errText = rr.ErrorCode.Error()
			if rr.ErrorMsg != "" {
				errText += ": " + rr.ErrorMsg
			}
		}
		switch rr.Type {
		case sarama.TopicResource:
			if errText != "" {
				ci.topicErr[rr.Name] = errText
				continue
			}
			for _, c := range rr.Configs {
				if c.Name == "max.message.bytes" {
					if n, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
						ci.topicMax[rr.Name] = n
					}
				}
			}
		case sarama.BrokerResource:
			seenBroker = true
			if errText != "" {
				ci.brokerErr = errText
				continue
			}
			for _, c := range rr.Configs {
				switch c.Name {
				case "message.max.bytes":
					if n, err := strconv.ParseInt(c.Value, 10, 64); err == nil {
						ci.brokerMax = n
					}
				case "auto.create.topics.enable":
					ci.autoCreate = c.Value
				}
			}
		}
	}
	if !seenBroker && ci.brokerErr == "" {
		ci.brokerErr = "the broker did not describe its configuration"
	}
	return ci, nil
}

func (r *runner) checkDestVersion() Item {
	d := r.dest
	vs := r.t.Destination.Version
	if vs == "" {
		vs = "2.8.0"
	}
	ver := d.cfg.Version
	pv := kafka.ProduceVersion(ver)
	details := []string{fmt.Sprintf("kafkaVersion = %s: the producer sends Produce v%d (%s)", vs, pv,
		map[bool]string{true: "record batches, Kafka 0.11+ format", false: "message sets, the pre-0.11 format"}[pv >= 3])}
	pr, ok := d.api[0]
	if ok {
		details = append(details, fmt.Sprintf("broker %s accepts Produce v%d–v%d", d.apiFrom, pr[0], pr[1]))
	} else {
		details = append(details, fmt.Sprintf("broker %s did not list the Produce API", d.apiFrom))
	}
	var problems []string
	var fixes []string
	if ok && pv >= 3 && pr[1] < 3 {
		problems = append(problems, "the broker is older than Kafka 0.11 (Produce up to v"+strconv.Itoa(int(pr[1]))+"): it cannot read the record batches kafkaVersion "+vs+" makes the producer send")
		fixes = append(fixes, "Set kafkaVersion to the brokers' version (0.10.x), or upgrade the brokers.")
	}
	if ok && pv < 3 && pr[0] > pv {
		problems = append(problems, fmt.Sprintf("the broker no longer accepts Produce v%d (Kafka 4.0 removed the pre-0.11 message format)", pv))
		fixes = append(fixes, "Set kafkaVersion to 2.1.0 or later (the brokers' version).")
	}
	if r.t.Compression == "zstd" {
		switch {
		case !ver.IsAtLeast(sarama.V2_1_0_0):
			problems = append(problems, "ZSTD compression needs kafkaVersion 2.1.0 or later; it is "+vs)
			fixes = append(fixes, "Set kafkaVersion to 2.1.0 or later, or choose LZ4, GZIP or Snappy compression.")
		case ok && pr[1] < 7:
			problems = append(problems, "ZSTD compression needs Kafka 2.1 or later on the brokers (Produce v7); the broker accepts up to v"+strconv.Itoa(int(pr[1])))
			fixes = append(fixes, "Choose LZ4, GZIP or Snappy compression, or upgrade the brokers to 2.1 or later.")
		default:
			details = append(details, "ZSTD compression: supported (Kafka 2.1+)")
		}
	}
	if len(problems) > 0 {
		return failed(append(problems, details...), strings.Join(fixes, "\n"))
	}
	if !ver.IsAtLeast(sarama.V0_11_0_0) {
		return warning(append(details, "kafkaVersion "+vs+" (the pre-0.11 message format) cannot be verified here: Tributary is tested against brokers that speak Produce v3+ only"),
			"Use kafkaVersion 0.11.0.0 or later if the brokers are 0.11 or newer; otherwise ignore this warning to accept an untested setting.")
	}
	return passed(details...)
}

// opNames lists the operations set in an authorized-operations bit field.
func opNames(bits int32) string {
	names := []string{sarama.AclOperationRead: "READ", sarama.AclOperationWrite: "WRITE", sarama.AclOperationCreate: "CREATE",
		sarama.AclOperationDelete: "DELETE", sarama.AclOperationAlter: "ALTER", sarama.AclOperationDescribe: "DESCRIBE",
		sarama.AclOperationClusterAction: "CLUSTER_ACTION", sarama.AclOperationDescribeConfigs: "DESCRIBE_CONFIGS",
		sarama.AclOperationAlterConfigs: "ALTER_CONFIGS", sarama.AclOperationIdempotentWrite: "IDEMPOTENT_WRITE"}
	var out []string
	for op, n := range names {
		if n != "" && bits&(1<<int32(op)) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// aclAllows evaluates topic ACLs for principal: any DENY wins, else an ALLOW is needed.
func aclAllows(list []sarama.ResourceAcls, principal, topic string, op sarama.AclOperation) bool {
	allowed := false
	for _, ra := range list {
		if ra.ResourceType != sarama.AclResourceTopic {
			continue
		}
		match := false
		switch ra.ResourcePatternType {
		case sarama.AclPatternPrefixed:
			match = strings.HasPrefix(topic, ra.ResourceName)
		default:
			match = ra.ResourceName == topic || ra.ResourceName == "*"
		}
		if !match {
			continue
		}
		for _, a := range ra.Acls {
			if a.Principal != principal && a.Principal != "User:*" {
				continue
			}
			if a.Operation != op && a.Operation != sarama.AclOperationAll {
				continue
			}
			switch a.PermissionType {
			case sarama.AclPermissionDeny:
				return false
			case sarama.AclPermissionAllow:
				allowed = true
			}
		}
	}
	return allowed
}

func (r *runner) aclFix(topics []string, ops ...string) string {
	p := r.principal()
	if p == "" {
		p = "User:<the certificate's principal>"
	}
	var lines []string
	for _, t := range topics {
		l := fmt.Sprintf("kafka-acls.sh --bootstrap-server %s --add --allow-principal %s", r.bootstrap(), p)
		for _, op := range ops {
			l += " --operation " + op
		}
		lines = append(lines, l+" --topic "+t)
	}
	return strings.Join(lines, "\n")
}

// checkAuthDest checks WRITE on every destination topic without producing anything: the
// broker's authorized operations (Kafka 2.3+), else the cluster's ACLs.
func (r *runner) checkAuthDest() Item {
	m, err := r.dest.meta()
	if err != nil {
		return failed([]string{err.Error()}, "Check the destination connection; the account needs DESCRIBE on the topics.")
	}
	principal := r.principal()
	who := principal
	if who == "" {
		who = "the TLS client certificate's principal"
	}
	var ok, bad, unknown []string
	var badTopics []string
	for _, t := range r.destTopics() {
		ti := m.topics[t]
		switch {
		case errors.Is(ti.err, sarama.ErrTopicAuthorizationFailed):
			bad = append(bad, fmt.Sprintf("%s: %s may not DESCRIBE it (TOPIC_AUTHORIZATION_FAILED), so it cannot write to it either", t, who))
			badTopics = append(badTopics, t)
		case ti.exists && ti.opsKnown:
			if ti.ops&(1<<int32(sarama.AclOperationWrite)) != 0 {
				ok = append(ok, fmt.Sprintf("%s: WRITE allowed (authorized operations: %s)", t, opNames(ti.ops)))
			} else {
				bad = append(bad, fmt.Sprintf("%s: WRITE is not allowed for %s (authorized operations: %s)", t, who, opNames(ti.ops)))
				badTopics = append(badTopics, t)
			}
		default:
			unknown = append(unknown, t)
		}
	}
	var notes []string
	if len(unknown) > 0 && m.unrestricted() {
		for _, t := range unknown {
			ok = append(ok, fmt.Sprintf("%s: allowed (the account holds every cluster permission: the cluster has no authorizer, or the account is a super user)", t))
		}
	} else if len(unknown) > 0 {
		acls, aclErr := r.dest.acls()
		switch {
		case aclErr != nil && errors.Is(aclErr, sarama.ErrSecurityDisabled):
			for _, t := range unknown {
				ok = append(ok, fmt.Sprintf("%s: allowed (the cluster has no authorizer: SECURITY_DISABLED)", t))
			}
		case aclErr == nil && principal != "":
			for _, t := range unknown {
				if aclAllows(acls, principal, t, sarama.AclOperationWrite) {
					ok = append(ok, fmt.Sprintf("%s: an ACL allows WRITE for %s", t, principal))
				} else {
					bad = append(bad, fmt.Sprintf("%s: no ACL allows WRITE for %s (checked with DescribeAcls)", t, principal))
					badTopics = append(badTopics, t)
				}
			}
		default:
			why := "the broker reports no authorized operations (Kafka before 2.3, or kafkaVersion below 2.3.0)"
			if m.opsSupported {
				why = "they do not exist yet, so the broker cannot report the account's operations on them"
			}
			if aclErr != nil {
				why += " and the account may not list ACLs (" + aclErr.Error() + ")"
			}
			if principal == "User:ANONYMOUS" {
				// Plaintext clusters without SASL nearly always run without an authorizer.
				for _, t := range unknown {
					ok = append(ok, fmt.Sprintf("%s: not verified (%s); clusters without SASL normally have no authorizer", t, why))
				}
			} else {
				notes = append(notes, fmt.Sprintf("WRITE on %s cannot be verified before the task starts: %s", strings.Join(unknown, ", "), why))
			}
		}
	}
	sort.Strings(ok)
	if len(bad) > 0 {
		return failed(append(bad, append(notes, ok...)...), "Grant the account WRITE and DESCRIBE on the topics:\n"+r.aclFix(badTopics, "Write", "Describe"))
	}
	if len(notes) > 0 {
		return warning(append(notes, ok...), "Make sure the account has WRITE and DESCRIBE on the topics, e.g.\n"+r.aclFix(unknown, "Write", "Describe")+"\nthen ignore this warning.")
	}
	return passed(ok...)
}

// topicCheck is the outcome for one topic of CHECK_DEST_TOPIC / CHECK_DDL_TOPIC.
func (r *runner) topicStatus(m *metaInfo, topic string, want int, tables []string) (detail string, problem string, fix string) {
	ti := m.topics[topic]
	label := topic
	if len(tables) > 0 {
		label = fmt.Sprintf("%s (tables %s)", topic, listNames(tables, 5))
	}
	switch {
	case ti == nil:
		return "", label + ": the broker did not describe it", "Check the destination connection."
	case ti.err != 0 && !errors.Is(ti.err, sarama.ErrNoError):
		return "", fmt.Sprintf("%s: %v", label, ti.err), "Grant the account DESCRIBE on the topic:\n" + r.aclFix([]string{topic}, "Describe", "Write")
	case ti.exists:
		if want > 0 && ti.partitions < want {
			return "", fmt.Sprintf("%s: has %s, fewer than the %d mapped for it (Number of Partitions)", label, plural(ti.partitions, "partition", "partitions"), want),
				fmt.Sprintf("kafka-topics.sh --bootstrap-server %s --alter --topic %s --partitions %d\nor lower \"Number of Partitions\" of its tables to %d.", r.bootstrap(), topic, want, ti.partitions)
		}
		return fmt.Sprintf("%s: exists with %s", label, plural(ti.partitions, "partition", "partitions")), "", ""
	}
	n := want
	if n <= 0 {
		n = 1
	}
	err := r.dest.admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: int32(n), ReplicationFactor: -1}, true)
	if err == nil {
		return fmt.Sprintf("%s: does not exist; Tributary creates it with %s when the task starts (CreateTopics validated without creating it)", label, plural(n, "partition", "partitions")), "", ""
	}
	problem = fmt.Sprintf("%s: does not exist and cannot be created: %v", label, err)
	fix = fmt.Sprintf("Create it: kafka-topics.sh --bootstrap-server %s --create --topic %s --partitions %d --replication-factor <replicas>", r.bootstrap(), topic, n)
	if errors.Is(err, sarama.ErrTopicAuthorizationFailed) || errors.Is(err, sarama.ErrClusterAuthorizationFailed) {
		fix += "\nor let the account create it:\n" + r.aclFix([]string{topic}, "Create")
	}
	if errors.Is(err, sarama.ErrInvalidReplicationFactor) {
		fix += "\n(brokers before Kafka 2.4 need an explicit replication factor, so Tributary cannot create the topic itself)"
	}
	return "", problem, fix
}

func (r *runner) checkDestTopics() Item {
	m, err := r.dest.meta()
	if err != nil {
		return failed([]string{err.Error()}, "Check the destination connection.")
	}
	want, tables := r.objectTopics()
	return r.topicsItem(m, sortedKeys(want), want, tables)
}

func (r *runner) checkDDLTopic() Item {
	m, err := r.dest.meta()
	if err != nil {
		return failed([]string{err.Error()}, "Check the destination connection.")
	}
	t := r.t.DDLTopic()
	it := r.topicsItem(m, []string{t}, map[string]int{}, nil)
	note := "DDL goes to " + t
	if r.t.Destination.DDLTopic == "" {
		note += " (no DDL topic is set: the task's topic)"
	}
	it.Details = append([]string{note}, it.Details...)
	return it
}

func (r *runner) topicsItem(m *metaInfo, topics []string, want map[string]int, tables map[string][]string) Item {
	var details, problems, fixes []string
	for _, t := range topics {
		d, p, f := r.topicStatus(m, t, want[t], tables[t])
		if p != "" {
			problems = append(problems, p)
			fixes = append(fixes, f)
		} else {
			details = append(details, d)
		}
	}
	for _, t := range topics {
		if ti := m.topics[t]; ti != nil && !ti.exists && ti.err == 0 {
			if ci, err := r.dest.configs(); err == nil && ci.autoCreate != "" {
				details = append(details, "broker auto.create.topics.enable = "+ci.autoCreate+" (not used: Tributary creates missing topics itself with CreateTopics)")
			}
			break
		}
	}
	if len(problems) > 0 {
		return failed(append(problems, details...), strings.Join(fixes, "\n"))
	}
	return passed(details...)
}

// declaredBytes is a column's largest value as text; lob is true for types whose values can be
// megabytes (their real size shows in AVG_ROW_LENGTH only).
func declaredBytes(c columnRow) (n int64, lob bool) {
	switch c.dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "float", "double", "real", "bit", "year", "bool", "boolean":
		return 24, false
	case "date", "time", "datetime", "timestamp":
		return 32, false
	case "text", "blob":
		return 65535, false
	case "mediumtext", "mediumblob", "longtext", "longblob", "json", "long", "long varchar", "long varbinary":
		return 0, true
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection", "geomcollection":
		return 0, true
	}
	if c.octets > 0 {
		return c.octets, false
	}
	return 32, false
}

// checkMsgSize estimates the largest message of each table and compares it with the limits.
func (r *runner) checkMsgSize() Item {
	found, cols, fail := r.selectedColumns()
	if fail != nil {
		return *fail
	}
	ci, err := r.dest.configs()
	if err != nil {
		return failed([]string{err.Error()}, "Check the destination connection.")
	}
	producerMax := int64(r.dest.cfg.Producer.MaxMessageBytes)
	brokerMax := ci.brokerMax
	var notes []string
	if brokerMax == 0 {
		brokerMax = defaultMessageMaxBytes
		if ci.brokerErr != "" {
			notes = append(notes, fmt.Sprintf("the broker's message.max.bytes could not be read (%s); assuming the default %d", ci.brokerErr, defaultMessageMaxBytes))
		}
	}
	limitFor := func(topic string) (int64, string) {
		l, src := brokerMax, fmt.Sprintf("broker message.max.bytes %d", brokerMax)
		if n, ok := ci.topicMax[topic]; ok {
			l, src = n, fmt.Sprintf("topic max.message.bytes %d", n)
		} else if e, ok := ci.topicErr[topic]; ok {
			src += " (the topic's max.message.bytes could not be read: " + e + ")"
		}
		if producerMax < l {
			return producerMax, fmt.Sprintf("%s; the producer sends at most %d bytes", src, producerMax)
		}
		return l, src
	}
	type est struct {
		ref, topic       string
		avg, declared, n int64
		limit            int64
		limitSrc         string
	}
	var worst *est
	var over []string
	var lobs []string
	for _, tr := range found {
		var decl int64
		for _, c := range cols[tableKey(tr.db, tr.name)] {
			n, lob := declaredBytes(c)
			decl += n
			if lob {
				lobs = append(lobs, fmt.Sprintf("%s.%s (%s)", tr.ref(), c.name, c.dataType))
			}
		}
		o := r.t.Lookup(tr.db, tr.name)
		if o == nil {
			continue
		}
		topic := r.t.TopicFor(o)
		e := &est{ref: tr.ref(), topic: topic, avg: tr.avgRowLen, declared: decl}
		e.n = max(e.avg, e.declared) * 3 / 2
		e.limit, e.limitSrc = limitFor(topic)
		if worst == nil || e.n > worst.n {
			worst = e
		}
		if e.n > e.limit {
			over = append(over, fmt.Sprintf("%s → %s: estimated %d bytes per message (average row %d bytes, declared columns %d bytes, ×1.5 for encoding) > %d (%s)",
				e.ref, e.topic, e.n, e.avg, e.declared, e.limit, e.limitSrc))
		}
	}
	if worst == nil {
		return passed(append(notes, "no existing table to estimate")...)
	}
	details := []string{fmt.Sprintf("largest estimated message: %s → %s, about %d bytes (average row %d bytes, declared columns %d bytes, ×1.5 for encoding); limit %d (%s)",
		worst.ref, worst.topic, worst.n, worst.avg, worst.declared, worst.limit, worst.limitSrc)}
	details = append(details, notes...)
	if len(lobs) > 0 {
		details = append(details, "columns whose single values can exceed the limit (only their average size is known): "+listNames(lobs, 20))
	}
	if len(over) > 0 {
		topics := map[string]bool{}
		for _, tr := range found {
			if o := r.t.Lookup(tr.db, tr.name); o != nil {
				topics[r.t.TopicFor(o)] = true
			}
		}
		var lines []string
		for _, t := range sortedKeys(topics) {
			lines = append(lines, fmt.Sprintf("kafka-configs.sh --bootstrap-server %s --alter --entity-type topics --entity-name %s --add-config max.message.bytes=<bytes>", r.bootstrap(), t))
		}
		return warning(append(over, details...),
			"Rows larger than the limit make the task fail. Raise the topic limit (and message.max.bytes / replica.fetch.max.bytes on the brokers):\n"+strings.Join(lines, "\n")+
				"\nnote that Tributary's producer sends at most "+strconv.FormatInt(producerMax, 10)+" bytes per message; otherwise leave the wide tables out or filter the large rows.")
	}
	return passed(details...)
}

// checkSameObj looks for destination topics that already hold messages.
func (r *runner) checkSameObj() Item {
	m, err := r.dest.meta()
	if err != nil {
		return failed([]string{err.Error()}, "Check the destination connection.")
	}
	var existing []string
	for _, t := range r.destTopics() {
		if ti := m.topics[t]; ti != nil && ti.exists {
			existing = append(existing, t)
		}
	}
	mode := "Precheck and Report Errors"
	if r.t.ConflictMode == "ignore-and-proceed" {
		mode = "Ignore Errors and Proceed"
	}
	modeNote := "Processing Mode of Conflicting Tables: " + mode
	if len(existing) == 0 {
		return passed("none of the destination topics exists yet", modeNote)
	}
	if err := r.dest.client.RefreshMetadata(existing...); err != nil {
		return warning([]string{"the topics' offsets cannot be read: " + err.Error(), modeNote}, "Grant the account DESCRIBE on the topics, then run the precheck again, or ignore this warning.")
	}
	query := func(at int64) map[string]map[int32]int64 {
		q := map[string]map[int32]int64{}
		for _, t := range existing {
			ps, _ := r.dest.client.Partitions(t)
			q[t] = map[int32]int64{}
			for _, p := range ps {
				q[t][p] = at
			}
		}
		return q
	}
	newest, err := r.dest.admin.ListOffsets(query(sarama.OffsetNewest), nil)
	if err != nil {
		return warning([]string{"the topics' end offsets cannot be read: " + err.Error(), modeNote}, "Grant the account DESCRIBE on the topics, then run the precheck again, or ignore this warning.")
	}
	oldest, err := r.dest.admin.ListOffsets(query(sarama.OffsetOldest), nil)
	if err != nil {
		return warning([]string{"the topics' start offsets cannot be read: " + err.Error(), modeNote}, "Grant the account DESCRIBE on the topics, then run the precheck again, or ignore this warning.")
	}
	var holding, empty, errs []string
	for _, t := range existing {
		var n int64
		for p, no := range newest[t] {
			oo := oldest[t][p]
			switch {
			case no == nil || isErr(no.Err):
				errs = append(errs, fmt.Sprintf("%s/%d: %v", t, p, errOf(no)))
			case oo == nil || isErr(oo.Err):
				errs = append(errs, fmt.Sprintf("%s/%d: %v", t, p, errOf(oo)))
			default:
				n += no.Offset - oo.Offset
			}
		}
		if n > 0 {
			holding = append(holding, fmt.Sprintf("%s holds %s", t, plural(int(n), "message", "messages")))
		} else {
			empty = append(empty, t+" is empty")
		}
	}
	details := append(append(holding, empty...), modeNote)
	if len(errs) > 0 {
		details = append(details, "offsets not readable: "+listNames(errs, 10))
	}
	if len(holding) == 0 {
		if len(errs) > 0 {
			return warning(details, "Grant the account DESCRIBE on the topics, then run the precheck again, or ignore this warning.")
		}
		return passed(details...)
	}
	if r.opts.Resuming || !r.opts.ResumePosition.IsZero() {
		return passed(append(details, "the task resumes from a checkpoint: the messages already in its topics are its own")...)
	}
	fix := fmt.Sprintf("Empty the topics (kafka-delete-records.sh --bootstrap-server %s --offset-json-file <file>, or delete and re-create them), map the tables to new topics, or set Processing Mode of Conflicting Tables to \"Ignore Errors and Proceed\" to append after the existing messages.", r.bootstrap())
	if r.t.ConflictMode == "ignore-and-proceed" {
		return warning(append(details, "the migrated data is appended after the existing messages: consumers reading from the start see both"),
			"Ignore this warning to append to the topics, or empty them / map the tables to new topics first.")
	}
	return failed(details, fix)
}

func isErr(err error) bool { return err != nil && !errors.Is(err, sarama.ErrNoError) }

func errOf(o *sarama.OffsetResult) error {
	if o == nil {
		return errors.New("no answer")
	}
	return o.Err
}

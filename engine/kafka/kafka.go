// Package kafka is the sink: the sarama producer and admin built from task settings, topic
// preparation, partition policies and error explanations.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"

	"tributary/engine/task"
)

// Password resolves the SASL password: inline or from the named environment variable.
func Password(s *task.SASL) (string, error) {
	return task.ResolvePassword(s.Password, s.PasswordEnv, "sasl.passwordEnv")
}

// Settings are the producer options of a task.
type Settings struct {
	Acks        string // none, leader, all
	Compression string // lz4, gzip, snappy, zstd, none
	ClientID    string
	// Persistent makes the producer ride out broker outages: metadata and produce requests are
	// retried (backoff up to 5 s) instead of failing a message, which would let later messages
	// of its partition overtake it. The pipeline watches for stalls and reports Retrying.
	Persistent bool
}

// backoff doubles from 200 ms up to 5 s.
func backoff(retries, _ int) time.Duration {
	d := 200 * time.Millisecond
	for i := 0; i < retries && d < 5*time.Second; i++ {
		d *= 2
	}
	return min(d, 5*time.Second)
}

// Config builds a sarama configuration. Order within a partition is never broken by retries:
// one request in flight per broker.
func Config(k *task.Kafka, s Settings) (*sarama.Config, error) {
	cfg := sarama.NewConfig()
	v := k.Version
	if v == "" {
		v = "2.8.0"
	}
	ver, err := sarama.ParseKafkaVersion(v)
	if err != nil {
		return nil, fmt.Errorf("kafkaVersion %q: %w", v, err)
	}
	cfg.Version = ver
	cfg.ClientID = "tributary"
	if s.ClientID != "" {
		cfg.ClientID = s.ClientID
	}
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Net.ReadTimeout = 30 * time.Second
	cfg.Net.WriteTimeout = 30 * time.Second
	cfg.Net.MaxOpenRequests = 1
	cfg.Metadata.Retry.Max = 3
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
	cfg.Metadata.AllowAutoTopicCreation = false

	p := &cfg.Producer
	p.Return.Successes = true
	p.Return.Errors = true
	p.Partitioner = sarama.NewManualPartitioner
	p.Retry.Max = 10
	p.Retry.Backoff = 200 * time.Millisecond
	if s.Persistent {
		cfg.Metadata.Retry.Max = 1000
		cfg.Metadata.Retry.BackoffFunc = backoff
		// One metadata refresh (with its retries) ends after 30 s, so that a producer retrying
		// through an outage gets back to its own loop, which watches for Close.
		cfg.Metadata.Timeout = 30 * time.Second
		p.Retry.Max = 1000
		p.Retry.BackoffFunc = backoff
	}
	// A record batch (what the broker measures against max.message.bytes) is the records plus
	// a 61-byte header that sarama does not count: keep the records that much under the limit.
	// PrepareTopics lowers this to the destination's real limit.
	p.MaxMessageBytes = DefaultMessageLimit - RecordBatchOverhead
	p.Flush.Bytes = 1 << 20
	p.Flush.Frequency = 2 * time.Millisecond
	p.Flush.MaxMessages = 0
	cfg.ChannelBufferSize = 4096
	switch s.Acks {
	case "none":
		p.RequiredAcks = sarama.NoResponse
	case "all":
		p.RequiredAcks = sarama.WaitForAll
	default:
		p.RequiredAcks = sarama.WaitForLocal
	}
	switch s.Compression {
	case "", "lz4":
		p.Compression = sarama.CompressionLZ4
	case "gzip":
		p.Compression = sarama.CompressionGZIP
	case "snappy":
		p.Compression = sarama.CompressionSnappy
	case "zstd":
		if !ver.IsAtLeast(sarama.V2_1_0_0) {
			return nil, fmt.Errorf("compression zstd needs Kafka 2.1.0 or later; the destination is set to %s", v)
		}
		p.Compression = sarama.CompressionZSTD
	case "none":
		p.Compression = sarama.CompressionNone
	default:
		return nil, fmt.Errorf("compression %q is not one of lz4, gzip, snappy, zstd, none", s.Compression)
	}

	if k.SASL.Mechanism != "" {
		pw, err := Password(&k.SASL)
		if err != nil {
			return nil, err
		}
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.User = k.SASL.User
		cfg.Net.SASL.Password = pw
		switch k.SASL.Mechanism {
		case "PLAIN":
			cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case "SCRAM-SHA-256":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
		case "SCRAM-SHA-512":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
		default:
			return nil, fmt.Errorf("sasl.mechanism %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512", k.SASL.Mechanism)
		}
	}
	if k.TLS.Enabled {
		tc, err := k.TLS.Config("")
		if err != nil {
			return nil, err
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tc
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("producer settings: %w", err)
	}
	return cfg, nil
}

type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (c *scramClient) Begin(user, password, authzID string) error {
	cl, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	c.conv = cl.NewConversation()
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }
func (c *scramClient) Done() bool                            { return c.conv.Done() }

// NewClient connects to the cluster.
func NewClient(ctx context.Context, k *task.Kafka, s Settings) (sarama.Client, error) {
	cfg, err := Config(k, s)
	if err != nil {
		return nil, err
	}
	type result struct {
		c   sarama.Client
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := sarama.NewClient(k.Brokers, cfg)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, Explain(r.err, k)
		}
		return r.c, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// ConnError is a failure to reach or log in to the cluster.
type ConnError struct {
	Kind string
	Err  error
}

func (e *ConnError) Error() string { return e.Err.Error() }
func (e *ConnError) Unwrap() error { return e.Err }

// Explain turns a client error into a message that says what failed and what to do; it probes
// each bootstrap broker to name the real cause behind sarama's "run out of brokers".
func Explain(err error, k *task.Kafka) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "SASL") || errors.Is(err, sarama.ErrSASLAuthenticationFailed) || strings.Contains(s, "authentication"):
		return authError(strings.Join(k.Brokers, ","), k, err)
	case strings.Contains(s, "x509") || strings.Contains(s, "certificate"):
		return &ConnError{"certificate", fmt.Errorf("TLS to Kafka at %s failed: the broker certificate was not accepted (%v): give the CA file that signed it", strings.Join(k.Brokers, ","), err)}
	}
	if errors.Is(err, sarama.ErrOutOfBrokers) || strings.Contains(s, "run out of available brokers") {
		var causes []string
		for _, b := range k.Brokers {
			c, derr := net.DialTimeout("tcp", b, 3*time.Second)
			switch {
			case derr == nil:
				c.Close()
				// sarama only says it ran out of brokers (a broker that ends the connection
				// during the SASL exchange, as a failed login does, leaves just "EOF"): find the
				// step that fails by repeating them one at a time.
				if perr := probeBroker(b, k); perr != nil {
					// A failed login or an untrusted certificate holds for the whole cluster.
					var ce *ConnError
					if errors.As(perr, &ce) && (ce.Kind == "authentication" || ce.Kind == "certificate") {
						return perr
					}
					causes = append(causes, b+": "+perr.Error())
				} else if k.TLS.Enabled {
					causes = append(causes, b+": reachable, but the TLS or Kafka handshake failed")
				} else if k.SASL.Mechanism != "" {
					causes = append(causes, b+": reachable, but the Kafka handshake or SASL login failed")
				} else {
					causes = append(causes, b+": reachable, but it does not answer the Kafka protocol at version "+k.Version+" (brokers older than 0.11 and non-Kafka services fail this way)")
				}
			case errors.Is(derr, syscall.ECONNREFUSED):
				causes = append(causes, b+": connection refused (nothing listens on that port)")
			case isTimeout(derr):
				causes = append(causes, b+": no answer within 3 s (host down or a firewall)")
			case strings.Contains(derr.Error(), "no such host"):
				causes = append(causes, b+": the host name cannot be resolved")
			default:
				causes = append(causes, b+": "+derr.Error())
			}
		}
		return &ConnError{"refused", fmt.Errorf("cannot reach any Kafka broker: %s", strings.Join(causes, "; "))}
	}
	return &ConnError{"other", fmt.Errorf("Kafka at %s: %v", strings.Join(k.Brokers, ","), err)}
}

// authError says that the SASL login failed, and why when the broker said.
func authError(brokers string, k *task.Kafka, cause error) error {
	why := cause.Error()
	if errors.Is(cause, io.EOF) || errors.Is(cause, io.ErrUnexpectedEOF) {
		why = "the broker closed the connection during the login"
	}
	return &ConnError{"authentication", fmt.Errorf("SASL authentication failed: Kafka at %s rejected the login of %q with %s (%s): check the user, the password and the mechanism", brokers, k.SASL.User, k.SASL.Mechanism, why)}
}

// probeBroker connects to one broker step by step — TCP, TLS, the Kafka protocol without
// SASL, then the SASL login — and returns the first step that fails (nil if none does).
func probeBroker(addr string, k *task.Kafka) error {
	cfg, err := Config(k, Settings{ClientID: "tributary-probe"})
	if err != nil {
		return err
	}
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	if k.TLS.Enabled {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: cfg.Net.DialTimeout}, Config: cfg.Net.TLS.Config}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			var uerr x509.UnknownAuthorityError
			var herr x509.HostnameError
			var cerr *tls.CertificateVerificationError
			if errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) {
				return &ConnError{"certificate", fmt.Errorf("TLS to Kafka at %s failed: the broker certificate was not accepted (%v): give the CA file that signed it", addr, err)}
			}
			return &ConnError{"tls", fmt.Errorf("TLS handshake with %s failed (%v): is this a TLS listener?", addr, err)}
		}
		c.Close()
	}
	plain := *cfg
	plain.Net.SASL.Enable = false
	b := sarama.NewBroker(addr)
	if err := b.Open(&plain); err != nil {
		return err
	}
	_, err = b.ApiVersions(&sarama.ApiVersionsRequest{Version: 0})
	b.Close()
	if err != nil {
		return &ConnError{"protocol", fmt.Errorf("reachable, but it does not answer the Kafka protocol (%v)", err)}
	}
	if k.SASL.Mechanism == "" {
		return nil
	}
	b = sarama.NewBroker(addr)
	if err := b.Open(cfg); err != nil {
		return err
	}
	defer b.Close()
	if ok, err := b.Connected(); !ok || err != nil {
		if err == nil {
			err = errors.New("no connection")
		}
		return authError(addr, k, err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsConnError reports whether err is a broker connection failure.
func IsConnError(err error) bool {
	var ce *ConnError
	if errors.As(err, &ce) {
		return true
	}
	return errors.Is(err, sarama.ErrOutOfBrokers) || errors.Is(err, sarama.ErrNotConnected) || errors.Is(err, sarama.ErrClosedClient) || isTimeout(err) || errors.Is(err, syscall.ECONNREFUSED)
}

// Topics lists the cluster's topics with their partition counts.
func Topics(c sarama.Client) (map[string]int, error) {
	if err := c.RefreshMetadata(); err != nil {
		return nil, err
	}
	names, err := c.Topics()
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(names))
	for _, n := range names {
		ps, err := c.Partitions(n)
		if err != nil {
			return nil, err
		}
		out[n] = len(ps)
	}
	return out, nil
}

// PrepareTopics makes sure every topic exists with at least the wanted number of partitions
// (0 = any). Missing topics are created with the wanted count (1 if 0). A topic with fewer
// partitions than mapped is an error before start. It returns the actual partition counts, and
// sizes the producer's batches under the topics' max.message.bytes (see MessageLimit).
func PrepareTopics(c sarama.Client, want map[string]int) (map[string]int, error) {
	have, err := Topics(c)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var missing []string
	for t := range want {
		if _, ok := have[t]; !ok {
			missing = append(missing, t)
		}
	}
	// The admin shares the client (closing it would close the client): it is not closed.
	var admin sarama.ClusterAdmin
	if len(missing) > 0 {
		admin, err = sarama.NewClusterAdminFromClient(c)
		if err != nil {
			return nil, fmt.Errorf("topic admin: %w", err)
		}
		for _, t := range missing {
			n := want[t]
			if n <= 0 {
				n = 1
			}
			err := admin.CreateTopic(t, &sarama.TopicDetail{NumPartitions: int32(n), ReplicationFactor: -1}, false)
			if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
				return nil, fmt.Errorf("topic %q does not exist and could not be created (%v): create it with %d partitions, or allow this account to create topics", t, err, n)
			}
		}
		// Metadata catches up asynchronously.
		deadline := time.Now().Add(10 * time.Second)
		for {
			have, err = Topics(c)
			if err == nil {
				ok := true
				for _, t := range missing {
					if have[t] == 0 {
						ok = false
					}
				}
				if ok {
					break
				}
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("created topics %v do not show in the cluster metadata after 10 s", missing)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for t, n := range want {
		if n > 0 && have[t] < n {
			return nil, fmt.Errorf("topic %q has %d partitions, fewer than the %d mapped for it: add partitions to the topic or lower \"Number of Partitions\"", t, have[t], n)
		}
	}
	out := make(map[string]int, len(want))
	topics := make([]string, 0, len(want))
	for t := range want {
		out[t] = have[t]
		topics = append(topics, t)
	}
	fitMessageLimit(c, admin, topics)
	return out, nil
}

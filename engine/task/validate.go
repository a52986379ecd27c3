package task

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MaxMappedTables is DTS's limit on tables selected with name mapping.
const MaxMappedTables = 1000

var topicRe = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Validate checks every field and returns all problems with their JSON paths.
func (t *Task) Validate() error {
	var es Errors
	add := func(path, format string, args ...any) {
		es = append(es, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	oneOf := func(path, v string, allowed []string) {
		if !slices.Contains(allowed, v) {
			add(path, "%q is not allowed; use one of: %s", v, strings.Join(allowed, ", "))
		}
	}

	if t.Version != Version {
		add("$.version", "%d is not a version this Tributary reads; use %d", t.Version, Version)
	}
	if strings.TrimSpace(t.Name) == "" {
		add("$.name", "required: give the task a name")
	} else if len(t.Name) > 128 {
		add("$.name", "at most 128 characters")
	}

	// Source.
	if t.Source.Profile == "" {
		validateMySQL(&t.Source.MySQL, "$.source", add)
	} else if t.Source.Host != "" || t.Source.Password != "" {
		add("$.source", "give either \"profile\" or inline connection fields, not both")
	}

	// Destination.
	d := &t.Destination
	if d.Profile == "" {
		ValidateKafka(&d.Kafka, "$.destination", add)
	} else if len(d.Brokers) > 0 || d.SASL.Password != "" {
		add("$.destination", "give either \"profile\" or inline connection fields, not both")
	}
	if d.Topic == "" {
		add("$.destination.topic", "required: the topic that receives the migrated data")
	} else if !topicRe.MatchString(d.Topic) {
		add("$.destination.topic", "%q is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", d.Topic)
	}
	if d.DDLTopic != "" && !topicRe.MatchString(d.DDLTopic) {
		add("$.destination.ddlTopic", "%q is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", d.DDLTopic)
	}
	if d.SchemaRegistry.Enabled {
		if u, err := url.Parse(d.SchemaRegistry.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("$.destination.schemaRegistry.url", "must be an http:// or https:// URL when the schema registry is on")
		}
		if t.Format != "dts-avro" {
			add("$.destination.schemaRegistry.enabled", "the schema registry is only used with the \"dts-avro\" format")
		}
	}

	// Migration types.
	if !t.MigrationTypes.Full && !t.MigrationTypes.Incremental {
		add("$.migrationTypes", "select at least one of full and incremental")
	}
	oneOf("$.conflictMode", t.ConflictMode, values(ConflictModes))
	oneOf("$.format", t.Format, values(Formats))
	oneOf("$.compression", t.Compression, values(Compressions))
	oneOf("$.partitionPolicy", t.PartitionPolicy, values(PartitionPolicies))
	oneOf("$.acks", t.Acks, values(AcksChoices))
	oneOf("$.capitalization", t.Capitalization, values(Capitalizations))
	oneOf("$.formatOptions.canalSqlType", t.FormatOptions.CanalSQLType, []string{"jdbc", "dts"})
	oneOf("$.formatOptions.binaryEncoding", t.FormatOptions.BinaryEncoding, []string{"iso-8859-1", "base64"})
	if t.Compression == "zstd" && d.Profile == "" && d.Version != "" && VersionLess(d.Version, "2.1.0") {
		add("$.compression", "ZSTD needs Kafka 2.1.0 or later; the destination is set to %s", d.Version)
	}

	// Objects.
	if len(t.Objects) == 0 {
		add("$.objects", "select at least one table")
	}
	if len(t.Objects) > MaxMappedTables {
		add("$.objects", "%d tables selected; DTS and Tributary allow at most %d tables with name mapping in one task: split it into several tasks", len(t.Objects), MaxMappedTables)
	}
	seen := map[string]int{}
	for i := range t.Objects {
		o := &t.Objects[i]
		p := fmt.Sprintf("$.objects[%d]", i)
		if o.Database == "" {
			add(p+".database", "required")
		}
		if o.Table == "" {
			add(p+".table", "required")
		}
		key := strings.ToLower(o.Database + "." + o.Table)
		if j, ok := seen[key]; ok {
			add(p, "%s.%s is already selected at $.objects[%d]", o.Database, o.Table, j)
		}
		seen[key] = i
		if o.Topic != "" && !topicRe.MatchString(o.Topic) {
			add(p+".topic", "%q is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)", o.Topic)
		}
		if o.Partitions < 0 || o.Partitions > 10000 {
			add(p+".partitions", "%d is out of range; allowed: 1 to 10000, or 0 for the topic's own count", o.Partitions)
		}
		if len(o.PartitionKey) > 0 && t.PartitionPolicy != "hash-primary-key" {
			add(p+".partitionKey", "partition key columns are only used with the policy \"hash-primary-key\"")
		}
		if strings.Contains(o.Filter, ";") {
			add(p+".filter", "must not contain ';': give one condition without WHERE, e.g. id>100")
		}
		for j, op := range o.DML {
			oneOf(fmt.Sprintf("%s.dml[%d]", p, j), strings.ToLower(op), DMLOps)
		}
		for j, op := range o.DDL {
			oneOf(fmt.Sprintf("%s.ddl[%d]", p, j), strings.ToLower(op), DDLOps)
		}
	}

	// Advanced.
	a := &t.Advanced
	if a.RetryConnectionMinutes < 10 || a.RetryConnectionMinutes > 1440 {
		add("$.advanced.retryConnectionMinutes", "%d is out of range; allowed: 10 to 1440 minutes (default 720)", a.RetryConnectionMinutes)
	}
	if a.RetryOtherMinutes < 1 || a.RetryOtherMinutes > 1440 {
		add("$.advanced.retryOtherMinutes", "%d is out of range; allowed: 1 to 1440 minutes (default 10)", a.RetryOtherMinutes)
	} else if a.RetryOtherMinutes >= a.RetryConnectionMinutes {
		add("$.advanced.retryOtherMinutes", "must be smaller than retryConnectionMinutes (%d)", a.RetryConnectionMinutes)
	}
	validateThrottle(&a.FullThrottle, "$.advanced.fullThrottle", true, add)
	validateThrottle(&a.IncrementalThrottle, "$.advanced.incrementalThrottle", false, add)
	if a.FullThrottle.Enabled && !t.MigrationTypes.Full {
		add("$.advanced.fullThrottle.enabled", "full-migration throttling needs full data migration selected")
	}
	if a.IncrementalThrottle.Enabled && !t.MigrationTypes.Incremental {
		add("$.advanced.incrementalThrottle.enabled", "incremental throttling needs incremental data migration selected")
	}
	if len(a.EnvironmentTag) > 64 {
		add("$.advanced.environmentTag", "at most 64 characters")
	}
	if a.Alerting.LatencySeconds < 0 || a.Alerting.LatencySeconds > 86400 {
		add("$.advanced.alerting.latencySeconds", "%d is out of range; allowed: 0 (off) to 86400 seconds", a.Alerting.LatencySeconds)
	}
	if a.Alerting.Webhook != "" {
		if u, err := url.Parse(a.Alerting.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("$.advanced.alerting.webhook", "must be an http:// or https:// URL")
		}
	}
	if a.FullWorkers < 0 || a.FullWorkers > 64 {
		add("$.advanced.fullWorkers", "%d is out of range; allowed: 1 to 64, or 0 for the default", a.FullWorkers)
	}
	if a.ChunkRows < 0 || (a.ChunkRows > 0 && a.ChunkRows < 100) || a.ChunkRows > 1000000 {
		add("$.advanced.chunkRows", "%d is out of range; allowed: 100 to 1000000, or 0 for the default (8192)", a.ChunkRows)
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

func validateThrottle(th *Throttle, p string, full bool, add func(string, string, ...any)) {
	if th.QPS < 0 || th.QPS > 1000000 {
		add(p+".qps", "%d is out of range; allowed: 1 to 1000000 queries per second, or 0 for unlimited", th.QPS)
	}
	if !full && th.QPS != 0 {
		add(p+".qps", "incremental migration has no source QPS limit; use rps or mbps")
	}
	if th.RPS < 0 || th.RPS > 100000000 {
		add(p+".rps", "%d is out of range; allowed: 1 to 100000000 rows per second, or 0 for unlimited", th.RPS)
	}
	if th.MBps < 0 || th.MBps > 100000 {
		add(p+".mbps", "%v is out of range; allowed: 0.01 to 100000 MB/s, or 0 for unlimited", th.MBps)
	}
	if th.Enabled && th.QPS == 0 && th.RPS == 0 && th.MBps == 0 {
		add(p, "throttling is enabled but no limit is set: give qps, rps or mbps")
	}
}

func validateMySQL(m *MySQL, p string, add func(string, string, ...any)) {
	if m.Host == "" {
		add(p+".host", "required: the MySQL host name or IP address")
	} else if strings.ContainsAny(m.Host, " /") {
		add(p+".host", "%q is not a host name or IP address", m.Host)
	}
	if m.Port < 1 || m.Port > 65535 {
		add(p+".port", "%d is out of range; allowed: 1 to 65535", m.Port)
	}
	if m.User == "" {
		add(p+".user", "required: the database account")
	}
	if m.Password != "" && m.PasswordEnv != "" {
		add(p+".passwordEnv", "give either password or passwordEnv, not both")
	}
	if m.Encryption != "" && m.Encryption != "none" && m.Encryption != "ssl" {
		add(p+".encryption", "%q is not allowed; use one of: none, ssl", m.Encryption)
	}
}

// ValidateKafka checks a Kafka connection; the path prefix names where it sits.
func ValidateKafka(k *Kafka, p string, add func(string, string, ...any)) {
	if len(k.Brokers) == 0 {
		add(p+".brokers", "required: at least one bootstrap broker as host:port")
	}
	for i, b := range k.Brokers {
		host, port, err := net.SplitHostPort(b)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			add(fmt.Sprintf("%s.brokers[%d]", p, i), "%q is not host:port (for example 127.0.0.1:9092)", b)
		}
	}
	if k.Version != "" && !slices.Contains(KafkaVersions, k.Version) {
		add(p+".kafkaVersion", "%q is not offered; use one of: %s", k.Version, strings.Join(KafkaVersions, ", "))
	}
	if k.SASL.Mechanism != "" {
		if !slices.Contains(SASLMechanisms, k.SASL.Mechanism) {
			add(p+".sasl.mechanism", "%q is not allowed; use one of: %s, or leave empty for none", k.SASL.Mechanism, strings.Join(SASLMechanisms, ", "))
		}
		if k.SASL.User == "" {
			add(p+".sasl.user", "required when SASL is on")
		}
		if k.SASL.Password != "" && k.SASL.PasswordEnv != "" {
			add(p+".sasl.passwordEnv", "give either password or passwordEnv, not both")
		}
	}
}

// VersionLess compares dotted versions numerically.
func VersionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

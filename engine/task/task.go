// Package task is the task file: everything the DTS "Create Task" wizard holds, as a versioned
// JSON document. The window, `tributary serve` and `tributary run --task` all read and write it.
package task

import (
	"fmt"
	"strings"
)

// Version is the current task file version.
const Version = 1

// Task is one migration task.
type Task struct {
	Version int    `json:"version"`
	Name    string `json:"name"`

	Source      Source      `json:"source"`
	Destination Destination `json:"destination"`

	MigrationTypes MigrationTypes `json:"migrationTypes"`
	// ConflictMode is DTS's "Processing Mode of Conflicting Tables".
	ConflictMode string `json:"conflictMode"`
	// Format is DTS's "Data Format in Kafka".
	Format string `json:"format"`
	// Compression is DTS's "Kafka Data Compression Format".
	Compression string `json:"compression"`
	// PartitionPolicy is DTS's "Policy for Shipping Data to Kafka Partitions".
	PartitionPolicy string `json:"partitionPolicy"`
	// Acks is DTS's "Message acknowledgement mechanism".
	Acks string `json:"acks"`
	// Capitalization is DTS's "Capitalization of Object Names in Destination Instance".
	Capitalization string `json:"capitalization"`

	Objects []Object `json:"objects"`

	FormatOptions FormatOptions `json:"formatOptions"`
	Advanced      Advanced      `json:"advanced"`
}

// Source is the MySQL source: a saved profile by name, or inline parameters.
type Source struct {
	Profile string `json:"profile,omitempty"`
	MySQL
}

// MySQL holds a MySQL or MariaDB connection.
type MySQL struct {
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	// PasswordEnv names an environment variable that holds the password.
	PasswordEnv string `json:"passwordEnv,omitempty"`
	// Encryption is "none" (DTS "Non-encrypted") or "ssl" (DTS "SSL-encrypted").
	Encryption string `json:"encryption,omitempty"`
	TLS        TLS    `json:"tls"`
	// ServerID is the replica server_id the binlog reader announces (0 = derived from the task).
	ServerID uint32 `json:"serverId,omitempty"`
}

// Destination is the Kafka destination: a saved profile by name, or inline parameters, plus
// the task's topics.
type Destination struct {
	Profile string `json:"profile,omitempty"`
	Kafka
	// Topic is DTS's "Topic": the default topic for every table.
	Topic string `json:"topic"`
	// DDLTopic is DTS's "Topic That Stores DDL Information"; empty = Topic.
	DDLTopic       string         `json:"ddlTopic,omitempty"`
	SchemaRegistry SchemaRegistry `json:"schemaRegistry"`
}

// Kafka holds a Kafka cluster connection.
type Kafka struct {
	Brokers []string `json:"brokers,omitempty"`
	// Version is the Kafka protocol version the producer speaks, e.g. "2.8.0".
	Version string `json:"kafkaVersion,omitempty"`
	// Encryption is "none" (DTS "Non-encrypted"), "sasl-plain", "scram-sha-256" or
	// "scram-sha-512".
	SASL SASL `json:"sasl"`
	TLS  TLS  `json:"tls"`
}

// SASL is Kafka SASL authentication.
type SASL struct {
	Mechanism   string `json:"mechanism,omitempty"` // "", PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	User        string `json:"user,omitempty"`
	Password    string `json:"password,omitempty"`
	PasswordEnv string `json:"passwordEnv,omitempty"`
}

// TLS configures an encrypted connection.
type TLS struct {
	Enabled            bool   `json:"enabled,omitempty"`
	CAFile             string `json:"caFile,omitempty"`
	CertFile           string `json:"certFile,omitempty"`
	KeyFile            string `json:"keyFile,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
	ServerName         string `json:"serverName,omitempty"`
}

// SchemaRegistry is DTS's "Use Kafka Schema Registry".
type SchemaRegistry struct {
	Enabled bool   `json:"enabled,omitempty"`
	URL     string `json:"url,omitempty"`
}

// MigrationTypes are DTS's "Migration Types". Schema migration is not supported for Kafka
// destinations, as in DTS.
type MigrationTypes struct {
	Full        bool `json:"full"`
	Incremental bool `json:"incremental"`
}

// Object is one selected table and its mapping (DTS "Edit Table" dialog).
type Object struct {
	Database string `json:"database"`
	Table    string `json:"table"`
	// Topic is the topic this table goes to (DTS labels it "Table Name"); empty = the task's
	// topic.
	Topic string `json:"topic,omitempty"`
	// Partitions is "Number of Partitions"; 0 = the topic's own count.
	Partitions int `json:"partitions,omitempty"`
	// PartitionKey are the "Partition Key" columns (primary-key hash policy only).
	PartitionKey []string `json:"partitionKey,omitempty"`
	// Filter is "Filter Conditions": an SQL WHERE clause without WHERE.
	Filter string `json:"filter,omitempty"`
	// DML and DDL are the operations migrated incrementally; nil = all.
	DML []string `json:"dml,omitempty"`
	DDL []string `json:"ddl,omitempty"`
}

// FormatOptions settle the points the DTS documentation leaves open (see the README).
type FormatOptions struct {
	// CanalOldFullImage puts the whole before image in Canal JSON "old" instead of only the
	// changed columns.
	CanalOldFullImage bool `json:"canalOldFullImage,omitempty"`
	// CanalSQLType is "jdbc" (default, as DTS's examples) or "dts" (dataTypeNumber codes).
	CanalSQLType string `json:"canalSqlType,omitempty"`
	// BinaryEncoding renders binary values in Canal JSON: "iso-8859-1" (default, as Canal) or
	// "base64".
	BinaryEncoding string `json:"binaryEncoding,omitempty"`
}

// Advanced are DTS's "Advanced Settings" plus Tributary's own.
type Advanced struct {
	// RetryConnectionMinutes is "Retry Time for Failed Connections" (10–1440, default 720).
	RetryConnectionMinutes int `json:"retryConnectionMinutes"`
	// RetryOtherMinutes is "Retry Time for Other Issues" (1–1440, default 10, < the above).
	RetryOtherMinutes int `json:"retryOtherMinutes"`

	FullThrottle        Throttle `json:"fullThrottle"`
	IncrementalThrottle Throttle `json:"incrementalThrottle"`

	// Heartbeat writes a heartbeat table on the source every second (DTS "Whether to delete SQL
	// operations on heartbeat tables" = No).
	Heartbeat bool `json:"heartbeat"`
	// EnvironmentTag is DTS's "Environment Tag".
	EnvironmentTag string `json:"environmentTag,omitempty"`

	Alerting Alerting `json:"alerting"`

	// FullWorkers is the number of full-migration workers (0 = one per CPU, at least 2).
	FullWorkers int `json:"fullWorkers,omitempty"`
	// ChunkRows is the number of rows in one full-migration chunk (0 = 8192).
	ChunkRows int `json:"chunkRows,omitempty"`
}

// Throttle limits a phase. Zero fields are unlimited.
type Throttle struct {
	Enabled bool `json:"enabled"`
	// QPS is "Queries per second (QPS) to the source database" (full migration only).
	QPS int `json:"qps,omitempty"`
	// RPS is "RPS of Full/Incremental Data Migration".
	RPS int `json:"rps,omitempty"`
	// MBps is "Data migration speed (MB/s)".
	MBps float64 `json:"mbps,omitempty"`
}

// Alerting is DTS's "Monitoring and Alerting".
type Alerting struct {
	Enabled   bool `json:"enabled"`
	OnFailure bool `json:"onFailure,omitempty"`
	// LatencySeconds alerts when incremental latency exceeds it (0 = off).
	LatencySeconds int `json:"latencySeconds,omitempty"`
	// Desktop sends a desktop notification.
	Desktop bool `json:"desktop,omitempty"`
	// Webhook is an HTTP URL that receives a JSON POST per alert.
	Webhook string `json:"webhook,omitempty"`
}

// Allowed values, with the words the DTS console uses for them.
var (
	ConflictModes = []Choice{
		{"precheck-and-report", "Precheck and Report Errors"},
		{"ignore-and-proceed", "Ignore Errors and Proceed"},
	}
	Formats = []Choice{
		{"canal-json", "Canal Json"},
		{"dts-avro", "DTS Avro"},
	}
	Compressions = []Choice{
		{"lz4", "LZ4"},
		{"gzip", "GZIP"},
		{"snappy", "Snappy"},
		{"zstd", "ZSTD (Kafka 2.1 or later)"},
		{"none", "None"},
	}
	PartitionPolicies = []Choice{
		{"partition-0", "Ship All Data to Partition 0"},
		{"hash-db-table", "Ship Data to Separate Partitions Based on Hash Values of Database and Table Names"},
		{"hash-primary-key", "Ship Data to Separate Partitions Based on Hash Values of Primary Keys"},
	}
	AcksChoices = []Choice{
		{"none", "Don't wait for any confirmation"},
		{"leader", "Wait for confirmation from the master node"},
		{"all", "Waiting for confirmation of all ISR"},
	}
	Capitalizations = []Choice{
		{"dts-default", "DTS default policy"},
		{"source", "Consistent with the source database"},
		{"upper", "Consistent with the default policy of the destination database (uppercase)"},
		{"lower", "Consistent with the default policy of the destination database (lowercase)"},
	}
	DMLOps = []string{"insert", "update", "delete"}
	DDLOps = []string{
		"create table", "alter table", "drop table", "rename table", "truncate table",
		"create view", "alter view", "drop view",
		"create procedure", "alter procedure", "drop procedure",
		"create function", "drop function",
		"create trigger", "drop trigger",
		"create index", "drop index",
	}
	SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
	// KafkaVersions are the protocol versions offered. Versions below 0.11.0.0 cannot be
	// tested here: the test broker speaks Produce v3+ only.
	KafkaVersions = []string{
		"0.10.1.0", "0.10.2.0", "0.11.0.0", "1.0.0", "1.1.0", "2.0.0", "2.1.0", "2.2.0", "2.3.0",
		"2.4.0", "2.5.0", "2.6.0", "2.7.0", "2.8.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0",
		"3.5.0", "3.6.0", "3.7.0", "3.8.0", "3.9.0", "4.0.0", "4.1.0",
	}
)

// Choice is an allowed value and the label the console shows for it.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

func values(cs []Choice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Value
	}
	return out
}

// Defaults fills unset fields with DTS's defaults.
func (t *Task) Defaults() {
	if t.Version == 0 {
		t.Version = Version
	}
	if t.ConflictMode == "" {
		t.ConflictMode = "precheck-and-report"
	}
	if t.Format == "" {
		t.Format = "canal-json"
	}
	if t.Compression == "" {
		t.Compression = "lz4"
	}
	if t.PartitionPolicy == "" {
		t.PartitionPolicy = "partition-0"
	}
	if t.Acks == "" {
		t.Acks = "leader"
	}
	if t.Capitalization == "" {
		t.Capitalization = "dts-default"
	}
	if t.Source.Profile == "" {
		if t.Source.Port == 0 {
			t.Source.Port = 3306
		}
	}
	if t.Destination.Profile == "" && t.Destination.Version == "" {
		t.Destination.Version = "2.8.0"
	}
	if t.FormatOptions.CanalSQLType == "" {
		t.FormatOptions.CanalSQLType = "jdbc"
	}
	if t.FormatOptions.BinaryEncoding == "" {
		t.FormatOptions.BinaryEncoding = "iso-8859-1"
	}
	if t.Advanced.RetryConnectionMinutes == 0 {
		t.Advanced.RetryConnectionMinutes = 720
	}
	if t.Advanced.RetryOtherMinutes == 0 {
		t.Advanced.RetryOtherMinutes = 10
	}
}

// TopicFor returns the topic an object's rows go to, before capitalization.
func (t *Task) TopicFor(o *Object) string {
	if o.Topic != "" {
		return o.Topic
	}
	return t.Destination.Topic
}

// DDLTopic returns the topic DDL goes to.
func (t *Task) DDLTopic() string {
	if t.Destination.DDLTopic != "" {
		return t.Destination.DDLTopic
	}
	return t.Destination.Topic
}

// Allows reports whether an object migrates the given DML ("insert") or DDL ("alter table")
// operation. A nil list means all.
func (o *Object) Allows(op string) bool {
	list := o.DML
	if strings.Contains(op, " ") {
		list = o.DDL
	}
	if list == nil {
		return true
	}
	for _, x := range list {
		if strings.EqualFold(x, op) {
			return true
		}
	}
	return false
}

// Lookup finds the object for a table (case-insensitive), or nil.
func (t *Task) Lookup(db, table string) *Object {
	for i := range t.Objects {
		o := &t.Objects[i]
		if strings.EqualFold(o.Database, db) && strings.EqualFold(o.Table, table) {
			return o
		}
	}
	return nil
}

// Redacted returns a copy with every inline secret removed.
func (t Task) Redacted() Task {
	t.Source.Password = ""
	t.Destination.SASL.Password = ""
	t.Objects = append([]Object(nil), t.Objects...)
	return t
}

// String names the task for logs.
func (t *Task) String() string { return fmt.Sprintf("task %q", t.Name) }

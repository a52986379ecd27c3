package task

import (
	"strings"
	"testing"
)

const valid = `{
  "version": 1,
  "name": "orders",
  "source": {"host": "127.0.0.1", "port": 3306, "user": "dts", "passwordEnv": "SRC_PW"},
  "destination": {"brokers": ["127.0.0.1:9092"], "kafkaVersion": "2.8.0", "topic": "orders"},
  "migrationTypes": {"full": true, "incremental": true},
  "objects": [{"database": "shop", "table": "orders", "partitions": 3, "filter": "id > 100"}]
}`

func TestParseValidAppliesDTSDefaults(t *testing.T) {
	tk, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Compression != "lz4" || tk.Acks != "leader" || tk.PartitionPolicy != "partition-0" || tk.Format != "canal-json" ||
		tk.Advanced.RetryConnectionMinutes != 720 || tk.Advanced.RetryOtherMinutes != 10 || tk.ConflictMode != "precheck-and-report" {
		t.Fatalf("defaults not applied: %+v", tk)
	}
}

func TestParseErrorsNameThePath(t *testing.T) {
	cases := []struct {
		name, edit, path, msg string
	}{
		{"unknown field", `"partitions": 3,`, "$.objects[0].partitoins", "unknown field"},
		{"wrong type", `"partitions": 3,`, "$.objects[0].partitions", "must be a whole number"},
		{"out of range", `"partitions": 3,`, "$.objects[0].partitions", "out of range"},
		{"bad enum", `"incremental": true}`, "$.compression", "use one of"},
		{"retry order", `"incremental": true}`, "$.advanced.retryOtherMinutes", "smaller than retryConnectionMinutes"},
		{"bad broker", `"kafkaVersion"`, "$.destination.brokers[0]", "host:port"},
		{"semicolon", `"filter": "id > 100"`, "$.objects[0].filter", "';'"},
		{"zstd old kafka", `"incremental": true}`, "$.compression", "2.1.0"},
		{"no version", `"version": 1,`, "$.version", "missing"},
	}
	for _, c := range cases {
		doc := valid
		switch c.name {
		case "unknown field":
			doc = strings.Replace(doc, `"partitions": 3,`, `"partitoins": 3,`, 1)
		case "wrong type":
			doc = strings.Replace(doc, `"partitions": 3,`, `"partitions": "three",`, 1)
		case "out of range":
			doc = strings.Replace(doc, `"partitions": 3,`, `"partitions": -2,`, 1)
		case "bad enum":
			doc = strings.Replace(doc, `"incremental": true}`, `"incremental": true}, "compression": "brotli"`, 1)
		case "retry order":
			doc = strings.Replace(doc, `"incremental": true}`, `"incremental": true}, "advanced": {"retryConnectionMinutes": 10, "retryOtherMinutes": 30}`, 1)
		case "bad broker":
			doc = strings.Replace(doc, `"127.0.0.1:9092"`, `"localhost"`, 1)
		case "semicolon":
			doc = strings.Replace(doc, `"filter": "id > 100"`, `"filter": "id > 100; DROP TABLE x"`, 1)
		case "zstd old kafka":
			doc = strings.Replace(strings.Replace(doc, `"2.8.0"`, `"2.0.0"`, 1), `"incremental": true}`, `"incremental": true}, "compression": "zstd"`, 1)
		case "no version":
			doc = strings.Replace(doc, `"version": 1,`, ``, 1)
		}
		_, err := Parse([]byte(doc))
		es := AsErrors(err)
		found := false
		for _, e := range es {
			if e.Path == c.path && strings.Contains(e.Message, c.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want an error at %s containing %q, got %v", c.name, c.path, c.msg, err)
		}
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"version": 1} {}`, `{"version": 1,`, `null`} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%q was accepted", doc)
		}
	}
}

func TestRedactedDropsSecrets(t *testing.T) {
	tk, _ := Parse([]byte(valid))
	tk.Source.Password = "S3cret"
	tk.Destination.SASL.Password = "K4fka"
	b, _ := Marshal(ptr(tk.Redacted()))
	if strings.Contains(string(b), "S3cret") || strings.Contains(string(b), "K4fka") {
		t.Fatalf("secrets in the redacted file: %s", b)
	}
}

func ptr(t Task) *Task { return &t }

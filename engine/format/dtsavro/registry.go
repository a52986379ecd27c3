package dtsavro

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Schema registry support. DTS registers its Avro schema with the registry the user names
// ("Use Kafka Schema Registry"); whether it then prefixes payloads with the Confluent wire
// header, and under which subject it registers, is not published [unverified]. Tributary uses
// the Confluent conventions every registry-aware consumer understands: the subject of a topic's
// values is "<topic>-value" (TopicNameStrategy) and each framed payload is magic byte 0, the
// 4-byte big-endian schema id, then the Avro binary record.

// Subject returns the registry subject of a topic's message values: "<topic>-value".
func Subject(topic string) string { return topic + "-value" }

// Frame appends the Confluent wire header (magic byte 0, big-endian schema id) and payload.
func Frame(dst []byte, id int32, payload []byte) []byte {
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(id))
	return append(dst, payload...)
}

// RegistryClient registers RecordSchema with a Confluent-compatible schema registry and
// caches the ids it returns. It is safe for concurrent use.
type RegistryClient struct {
	// URL is the registry base URL, e.g. "http://registry:8081".
	URL string
	// HTTP is the client to use (default http.DefaultClient).
	HTTP *http.Client
	// Schema is the schema to register (default RecordSchema()).
	Schema string

	mu  sync.Mutex
	ids map[string]int32
}

// NewRegistryClient returns a client for a registry URL.
func NewRegistryClient(baseURL string) *RegistryClient {
	return &RegistryClient{URL: baseURL}
}

// ID returns the id of the schema under subject, registering it on first use. Registering
// a schema the subject already holds returns its existing id, so this is idempotent.
func (c *RegistryClient) ID(ctx context.Context, subject string) (int32, error) {
	c.mu.Lock()
	if id, ok := c.ids[subject]; ok {
		c.mu.Unlock()
		return id, nil
	}
	c.mu.Unlock()

	id, err := c.Register(ctx, subject)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if c.ids == nil {
		c.ids = map[string]int32{}
	}
	c.ids[subject] = id
	c.mu.Unlock()
	return id, nil
}

// Register posts the schema to /subjects/{subject}/versions and returns its id.
func (c *RegistryClient) Register(ctx context.Context, subject string) (int32, error) {
	schema := c.Schema
	if schema == "" {
		schema = RecordSchema()
	}
	body, err := json.Marshal(struct {
		Schema string `json:"schema"`
	}{schema})
	if err != nil {
		return 0, err
	}
	u := strings.TrimRight(c.URL, "/") + "/subjects/" + url.PathEscape(subject) + "/versions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("schema registry: register %s: %w", subject, err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("schema registry: register %s at %s: %w (check the registry URL and that it is reachable)", subject, c.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("schema registry: register %s: read response: %w", subject, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			return 0, fmt.Errorf("schema registry: register %s: %s (HTTP %d, error %d)", subject, e.Message, resp.StatusCode, e.Code)
		}
		return 0, fmt.Errorf("schema registry: register %s: HTTP %d: %s", subject, resp.StatusCode, bytes.TrimSpace(data))
	}
	var r struct {
		ID *int32 `json:"id"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.ID == nil {
		return 0, fmt.Errorf("schema registry: register %s: unexpected response %q", subject, data)
	}
	return *r.ID, nil
}

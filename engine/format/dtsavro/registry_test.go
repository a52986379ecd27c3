package dtsavro

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// fakeRegistry implements POST /subjects/{subject}/versions of the Confluent REST API.
type fakeRegistry struct {
	mu       sync.Mutex
	ids      map[string]int32 // schema → id
	subjects map[string]bool
	posts    int
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	subject, ok := strings.CutPrefix(r.URL.Path, "/subjects/")
	subject, ok2 := strings.CutSuffix(subject, "/versions")
	if r.Method != http.MethodPost || !ok || !ok2 {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error_code":404,"message":"HTTP 404 Not Found"}`)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/vnd.schemaregistry.v1+json" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		io.WriteString(w, `{"error_code":415,"message":"bad content type `+ct+`"}`)
		return
	}
	var body struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// A real registry checks that the schema parses.
	if _, err := goavro.NewCodec(body.Schema); err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"error_code":42201,"message":"Invalid schema"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	if f.ids == nil {
		f.ids, f.subjects = map[string]int32{}, map[string]bool{}
	}
	id, ok := f.ids[body.Schema]
	if !ok {
		id = int32(len(f.ids) + 41)
		f.ids[body.Schema] = id
	}
	f.subjects[subject] = true
	json.NewEncoder(w).Encode(map[string]int32{"id": id})
}

func TestRegistry(t *testing.T) {
	fake := &fakeRegistry{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := NewRegistryClient(srv.URL + "/")
	ctx := context.Background()

	id, err := c.ID(ctx, Subject("orders"))
	if err != nil {
		t.Fatal(err)
	}
	if id != 41 || !fake.subjects["orders-value"] {
		t.Errorf("id %d, subjects %v", id, fake.subjects)
	}
	again, err := c.ID(ctx, Subject("orders"))
	if err != nil || again != id || fake.posts != 1 {
		t.Errorf("second lookup: %d %v, %d posts", again, err, fake.posts)
	}
	other, err := c.ID(ctx, Subject("other"))
	if err != nil || other != id || fake.posts != 2 {
		t.Errorf("other subject: %d %v, %d posts", other, err, fake.posts)
	}

	c2 := NewRegistryClient(srv.URL)
	c2.Schema = `{"type":"record","name":"X","fields":[{"name":"bad"}]}`
	if _, err := c2.ID(ctx, "x-value"); err == nil || !strings.Contains(err.Error(), "Invalid schema") {
		t.Errorf("invalid schema: %v", err)
	}
	c3 := NewRegistryClient(srv.URL + "/nothing")
	if _, err := c3.ID(ctx, "x-value"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("wrong URL: %v", err)
	}
}

func TestFrame(t *testing.T) {
	got := Frame([]byte("k"), 0x01020304, []byte("avro"))
	if string(got) != "k\x00\x01\x02\x03\x04avro" {
		t.Errorf("%q", got)
	}
}

package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Broker fans events out to server-sent-event clients.
type Broker struct {
	mu   sync.Mutex
	subs map[chan []byte]bool
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[chan []byte]bool{}} }

// Emit sends an event to every connected client; a client too slow to keep up loses events
// rather than stalling the engine.
func (b *Broker) Emit(name string, data any) {
	payload, err := json.Marshal(data)
	if err != nil {
		return
	}
	msg := []byte("event: " + name + "\ndata: " + string(payload) + "\n\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- msg:
		default:
		}
	}
}

func (b *Broker) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, 256)
	b.mu.Lock()
	b.subs[ch] = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	_, _ = io.WriteString(w, ": connected\n\n")
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case m := <-ch:
			if _, err := w.Write(m); err != nil {
				return
			}
			fl.Flush()
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// Handler serves the UI (static files from dist) and the API over HTTP: POST
// /api/<Service>/<Method> with a JSON array of arguments, and GET /api/events (API.md).
func (a *App) Handler(dist fs.FS, broker *Broker) http.Handler {
	services := map[string]reflect.Value{}
	for _, s := range a.Services() {
		v := reflect.ValueOf(s)
		services[v.Elem().Type().Name()] = v
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/events", broker.serveEvents)
	mux.HandleFunc("POST /api/{service}/{method}", func(w http.ResponseWriter, r *http.Request) {
		svc, ok := services[r.PathValue("service")]
		if !ok {
			writeErr(w, http.StatusNotFound, fmt.Errorf("no service %q", r.PathValue("service")))
			return
		}
		m := svc.MethodByName(r.PathValue("method"))
		if !m.IsValid() {
			writeErr(w, http.StatusNotFound, fmt.Errorf("no method %s.%s", r.PathValue("service"), r.PathValue("method")))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
		var raw []json.RawMessage
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &raw); err != nil {
				writeErr(w, http.StatusBadRequest, fmt.Errorf("the request body must be a JSON array of arguments: %v", err))
				return
			}
		}
		mt := m.Type()
		if len(raw) != mt.NumIn() {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("%s.%s takes %d arguments, got %d", r.PathValue("service"), r.PathValue("method"), mt.NumIn(), len(raw)))
			return
		}
		args := make([]reflect.Value, mt.NumIn())
		for i := range args {
			p := reflect.New(mt.In(i))
			if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
				writeErr(w, http.StatusBadRequest, fmt.Errorf("argument %d of %s.%s: %v", i+1, r.PathValue("service"), r.PathValue("method"), err))
				return
			}
			args[i] = p.Elem()
		}
		out := m.Call(args)
		var result any
		for _, o := range out {
			if o.Type().Implements(reflect.TypeOf((*error)(nil)).Elem()) {
				if !o.IsNil() {
					writeErr(w, http.StatusUnprocessableEntity, o.Interface().(error))
					return
				}
				continue
			}
			result = o.Interface()
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(result); err != nil {
			log.Printf("write %s.%s result: %v", r.PathValue("service"), r.PathValue("method"), err)
		}
	})
	static := http.FileServerFS(dist)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		if p != "" {
			if _, err := fs.Stat(dist, p); errors.Is(err, fs.ErrNotExist) {
				r.URL.Path = "/" // single-page app: unknown paths get index.html
			}
		}
		static.ServeHTTP(w, r)
	})
	return mux
}

func writeErr(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tributary/engine/kafka"
	"tributary/engine/mysql"
	"tributary/engine/task"
	"tributary/store"
)

// Connections manages saved connection profiles.
type Connections struct{ a *App }

// TestResult is the outcome of Test Connectivity.
type TestResult struct {
	OK      bool     `json:"ok"`
	Message string   `json:"message"`
	Details []string `json:"details"`
}

// List returns the profiles of a kind ("" = all), without passwords.
func (c *Connections) List(kind string) ([]store.Profile, error) {
	ps, err := c.a.store.Profiles(kind)
	if ps == nil {
		ps = []store.Profile{}
	}
	return ps, err
}

// Save creates (id 0) or updates a profile. An empty password keeps the stored one.
func (c *Connections) Save(p store.Profile) (store.Profile, error) {
	if err := validateProfile(&p); err != nil {
		return store.Profile{}, err
	}
	if err := c.a.store.SaveProfile(&p); err != nil {
		return store.Profile{}, err
	}
	saved, err := c.a.store.ProfileByID(p.ID)
	if err != nil {
		return store.Profile{}, err
	}
	return *saved, nil
}

func validateProfile(p *store.Profile) error {
	var es task.Errors
	add := func(path, format string, args ...any) {
		es = append(es, task.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(p.Name) == "" {
		add("name", "required: give the connection a name")
	}
	switch p.Kind {
	case store.KindMySQL:
		if p.MySQL == nil {
			add("mysql", "required for a MySQL connection")
			break
		}
		if p.MySQL.Port == 0 {
			p.MySQL.Port = 3306
		}
		if p.MySQL.Host == "" {
			add("mysql.host", "required: the MySQL host name or IP address")
		}
		if p.MySQL.Port < 1 || p.MySQL.Port > 65535 {
			add("mysql.port", "%d is out of range; allowed: 1 to 65535", p.MySQL.Port)
		}
		if p.MySQL.User == "" {
			add("mysql.user", "required: the database account")
		}
	case store.KindKafka:
		if p.Kafka == nil {
			add("kafka", "required for a Kafka connection")
			break
		}
		if p.Kafka.Version == "" {
			p.Kafka.Version = "2.8.0"
		}
		task.ValidateKafka(&p.Kafka.Kafka, "kafka", add)
	default:
		add("kind", "%q is not allowed; use mysql or kafka", p.Kind)
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// Delete removes a profile (refused while a task uses it).
func (c *Connections) Delete(id int64) error { return c.a.store.DeleteProfile(id) }

// Duplicate copies a profile, password included, under a new name.
func (c *Connections) Duplicate(id int64) (store.Profile, error) {
	p, err := c.a.store.ProfileByID(id)
	if err != nil {
		return store.Profile{}, err
	}
	full, err := c.a.store.ProfileWithSecret(p.Name)
	if err != nil {
		return store.Profile{}, err
	}
	base := full.Name + " (copy)"
	name := base
	for i := 2; ; i++ {
		if _, err := c.a.store.Profile(name); err != nil {
			break
		}
		name = fmt.Sprintf("%s %d", base, i)
	}
	full.ID = 0
	full.Name = name
	if err := c.a.store.SaveProfile(full); err != nil {
		return store.Profile{}, err
	}
	saved, err := c.a.store.ProfileByID(full.ID)
	if err != nil {
		return store.Profile{}, err
	}
	return *saved, nil
}

// withStoredSecret fills an empty password from the stored profile p.ID.
func (c *Connections) withStoredSecret(p store.Profile) store.Profile {
	if p.ID == 0 {
		return p
	}
	old, err := c.a.store.ProfileByID(p.ID)
	if err != nil {
		return p
	}
	full, err := c.a.store.ProfileWithSecret(old.Name)
	if err != nil {
		return p
	}
	if p.MySQL != nil && p.MySQL.Password == "" && full.MySQL != nil {
		p.MySQL.Password = full.MySQL.Password
	}
	if p.Kafka != nil && p.Kafka.SASL.Password == "" && full.Kafka != nil {
		p.Kafka.SASL.Password = full.Kafka.SASL.Password
	}
	return p
}

// Test connects with the given parameters and reports the real cause of a failure.
func (c *Connections) Test(p store.Profile) (TestResult, error) {
	p = c.withStoredSecret(p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	switch p.Kind {
	case store.KindMySQL:
		if p.MySQL == nil {
			return TestResult{Message: "no MySQL parameters given"}, nil
		}
		if p.MySQL.Port == 0 {
			p.MySQL.Port = 3306
		}
		return TestMySQL(ctx, p.MySQL), nil
	case store.KindKafka:
		if p.Kafka == nil {
			return TestResult{Message: "no Kafka parameters given"}, nil
		}
		return TestKafka(ctx, &p.Kafka.Kafka), nil
	}
	return TestResult{Message: fmt.Sprintf("kind %q is not mysql or kafka", p.Kind)}, nil
}

// TestMySQL logs in and reads the server version.
func TestMySQL(ctx context.Context, m *task.MySQL) TestResult {
	conn, err := mysql.Connect(ctx, m)
	if err != nil {
		return TestResult{Message: err.Error()}
	}
	defer conn.Close()
	info := mysql.Server(conn)
	flavour := "MySQL"
	if info.MariaDB {
		flavour = "MariaDB"
	}
	return TestResult{OK: true, Message: fmt.Sprintf("Connected to %s %s at %s:%d as %s", flavour, info.Version, m.Host, m.Port, m.User)}
}

// TestKafka connects to the bootstrap brokers and lists the topics.
func TestKafka(ctx context.Context, k *task.Kafka) TestResult {
	if k.Version == "" {
		k.Version = "2.8.0"
	}
	cl, err := kafka.NewClient(ctx, k, kafka.Settings{})
	if err != nil {
		return TestResult{Message: err.Error()}
	}
	defer cl.Close()
	topics, err := kafka.Topics(cl)
	if err != nil {
		return TestResult{Message: kafka.Explain(err, k).Error()}
	}
	var details []string
	for _, b := range cl.Brokers() {
		details = append(details, fmt.Sprintf("broker %d at %s", b.ID(), b.Addr()))
	}
	return TestResult{OK: true, Message: fmt.Sprintf("Connected to Kafka (%d brokers, %d topics)", len(cl.Brokers()), len(topics)), Details: details}
}

// profileFile is the export format of connection profiles.
type profileFile struct {
	Version  int             `json:"version"`
	Profiles []store.Profile `json:"profiles"`
}

// Export writes the chosen profiles (all when ids is empty) as JSON. Passwords are included
// only when includeSecrets is true.
func (c *Connections) Export(ids []int64, includeSecrets bool) (string, error) {
	all, err := c.a.store.Profiles("")
	if err != nil {
		return "", err
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	out := profileFile{Version: 1, Profiles: []store.Profile{}}
	for _, p := range all {
		if len(ids) > 0 && !want[p.ID] {
			continue
		}
		if includeSecrets {
			full, err := c.a.store.ProfileWithSecret(p.Name)
			if err != nil {
				return "", err
			}
			p = *full
		}
		p.ID = 0
		p.HasPassword = false
		out.Profiles = append(out.Profiles, p)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	return string(b) + "\n", err
}

// ProfileImportResult reports what a profile import did.
type ProfileImportResult struct {
	Imported []string          `json:"imported"`
	Errors   []task.FieldError `json:"errors"`
}

// Import reads a file written by Export; existing names are updated.
func (c *Connections) Import(text string) (ProfileImportResult, error) {
	var f profileFile
	res := ProfileImportResult{Imported: []string{}, Errors: []task.FieldError{}}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		res.Errors = append(res.Errors, task.FieldError{Path: "$", Message: "not a Tributary connections file: " + err.Error()})
		return res, nil
	}
	if f.Version != 1 {
		res.Errors = append(res.Errors, task.FieldError{Path: "$.version", Message: fmt.Sprintf("%d is not a version this Tributary reads; use 1", f.Version)})
		return res, nil
	}
	for i, p := range f.Profiles {
		p.ID = 0
		if old, err := c.a.store.Profile(p.Name); err == nil {
			p.ID = old.ID
		}
		if err := validateProfile(&p); err != nil {
			for _, fe := range task.AsErrors(err) {
				res.Errors = append(res.Errors, task.FieldError{Path: fmt.Sprintf("$.profiles[%d].%s", i, fe.Path), Message: fe.Message})
			}
			continue
		}
		if err := c.a.store.SaveProfile(&p); err != nil {
			res.Errors = append(res.Errors, task.FieldError{Path: fmt.Sprintf("$.profiles[%d]", i), Message: err.Error()})
			continue
		}
		res.Imported = append(res.Imported, p.Name)
	}
	return res, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"tributary/engine/task"
)

// Profile kinds.
const (
	KindMySQL = "mysql"
	KindKafka = "kafka"
)

// Profile is a saved connection: a MySQL source or a Kafka destination.
type Profile struct {
	ID    int64         `json:"id"`
	Name  string        `json:"name"`
	Kind  string        `json:"kind"` // "mysql" | "kafka"
	MySQL *task.MySQL   `json:"mysql,omitempty"`
	Kafka *KafkaProfile `json:"kafka,omitempty"`
	// HasPassword is set on read: a password is stored. Profile, ProfileByID and Profiles never
	// return the password itself; ProfileWithSecret does.
	HasPassword bool      `json:"hasPassword"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

// KafkaProfile is a saved Kafka destination: the cluster connection and the defaults a new task
// takes from it.
type KafkaProfile struct {
	task.Kafka
	Topic             string `json:"topic,omitempty"`
	DDLTopic          string `json:"ddlTopic,omitempty"`
	SchemaRegistryURL string `json:"schemaRegistryUrl,omitempty"`
}

// password returns the password the profile carries on input.
func (p *Profile) password() string {
	switch {
	case p.Kind == KindMySQL && p.MySQL != nil:
		return p.MySQL.Password
	case p.Kind == KindKafka && p.Kafka != nil:
		return p.Kafka.SASL.Password
	}
	return ""
}

// passwordEnv reports whether the profile takes its password from the environment.
func (p *Profile) passwordEnv() bool {
	switch {
	case p.Kind == KindMySQL && p.MySQL != nil:
		return p.MySQL.PasswordEnv != ""
	case p.Kind == KindKafka && p.Kafka != nil:
		return p.Kafka.SASL.PasswordEnv != ""
	}
	return false
}

// config is the stored JSON: the profile's connection without its password.
func (p *Profile) config() ([]byte, error) {
	switch p.Kind {
	case KindMySQL:
		c := *p.MySQL
		c.Password = ""
		return json.Marshal(&c)
	default:
		c := *p.Kafka
		c.SASL.Password = ""
		c.Brokers = append([]string(nil), c.Brokers...)
		return json.Marshal(&c)
	}
}

func (p *Profile) validate() error {
	switch p.Kind {
	case KindMySQL:
		if p.MySQL == nil {
			return errors.New("a mysql profile needs its mysql connection settings")
		}
	case KindKafka:
		if p.Kafka == nil {
			return errors.New("a kafka profile needs its kafka connection settings")
		}
	default:
		return fmt.Errorf("kind is %q; want %q or %q", p.Kind, KindMySQL, KindKafka)
	}
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("the profile needs a name")
	}
	return nil
}

// SaveProfile inserts a profile (ID 0) or updates the profile with p.ID. The password, from
// MySQL.Password or Kafka.SASL.Password, is sealed into its own column and never stored in the
// JSON config. On update an empty password keeps the stored one (the UI never gets it back to
// send again), unless the profile now names a PasswordEnv, which drops it. Renaming a profile
// renames it in every task that refers to it. Names are unique, case-insensitively. On success
// p.ID, Created, Updated and HasPassword are set; p's password fields are left as they were.
func (s *Store) SaveProfile(p *Profile) error {
	if p == nil {
		return errors.New("save profile: nil profile")
	}
	p.Name = strings.TrimSpace(p.Name)
	if err := p.validate(); err != nil {
		return fmt.Errorf("save profile %q: %w", p.Name, err)
	}
	cfg, err := p.config()
	if err != nil {
		return fmt.Errorf("save profile %q: %w", p.Name, err)
	}
	secret, err := s.sealer.seal(purposeProfile, p.password())
	if err != nil {
		return fmt.Errorf("save profile %q: %w", p.Name, err)
	}
	ctx := context.Background()
	now := s.now()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var other string
		err := tx.QueryRowContext(ctx, "SELECT name FROM profiles WHERE name = ? AND id != ?", p.Name, p.ID).Scan(&other)
		if err == nil {
			return errorf(ErrExists, "a profile named %q already exists (names ignore case); choose another name", other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if p.ID == 0 {
			res, err := tx.ExecContext(ctx,
				"INSERT INTO profiles(name, kind, config, secret, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
				p.Name, p.Kind, string(cfg), secret, ms(now), ms(now))
			if err != nil {
				return err
			}
			p.ID, err = res.LastInsertId()
			p.Created, p.Updated, p.HasPassword = fromMS(ms(now)), fromMS(ms(now)), secret != nil
			return err
		}

		var oldName, oldKind string
		var oldSecret []byte
		var created int64
		err = tx.QueryRowContext(ctx, "SELECT name, kind, secret, created FROM profiles WHERE id = ?", p.ID).
			Scan(&oldName, &oldKind, &oldSecret, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("profile %d: %w", p.ID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if oldKind != p.Kind {
			return fmt.Errorf("a %s profile cannot become a %s profile; create a new profile instead", oldKind, p.Kind)
		}
		if secret == nil && !p.passwordEnv() {
			secret = oldSecret
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE profiles SET name = ?, config = ?, secret = ?, updated = ? WHERE id = ?",
			p.Name, string(cfg), secret, ms(now), p.ID); err != nil {
			return err
		}
		if oldName != p.Name {
			if err := renameProfileRefs(ctx, tx, p.Kind, oldName, p.Name, now); err != nil {
				return err
			}
		}
		p.Created, p.Updated, p.HasPassword = fromMS(created), fromMS(ms(now)), secret != nil
		return nil
	})
	if err != nil {
		if sqliteCode(err) == codeConstraintUnique {
			err = errorf(ErrExists, "a profile named %q already exists (names ignore case); choose another name", p.Name)
		}
		return fmt.Errorf("save profile %q: %w", p.Name, err)
	}
	return nil
}

// profileRef is the JSON path in a task spec that names a profile of the kind.
func profileRef(kind string) string {
	if kind == KindMySQL {
		return "$.source.profile"
	}
	return "$.destination.profile"
}

func renameProfileRefs(ctx context.Context, tx *sql.Tx, kind, oldName, newName string, now time.Time) error {
	ref := profileRef(kind)
	_, err := tx.ExecContext(ctx,
		"UPDATE tasks SET spec = json_set(spec, '"+ref+"', ?), updated = ? WHERE json_extract(spec, '"+ref+"') = ? COLLATE NOCASE",
		newName, ms(now), oldName)
	if err != nil {
		return fmt.Errorf("rename profile in tasks: %w", err)
	}
	return nil
}

const profileCols = "id, name, kind, config, secret, created, updated"

func (s *Store) scanProfile(row interface{ Scan(...any) error }, withSecret bool) (*Profile, error) {
	var p Profile
	var cfg string
	var secret []byte
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Name, &p.Kind, &cfg, &secret, &created, &updated); err != nil {
		return nil, err
	}
	p.Created, p.Updated, p.HasPassword = fromMS(created), fromMS(updated), secret != nil
	var pw string
	if withSecret {
		var err error
		if pw, err = s.sealer.open(purposeProfile, secret); err != nil {
			return nil, err
		}
	}
	switch p.Kind {
	case KindMySQL:
		p.MySQL = new(task.MySQL)
		if err := json.Unmarshal([]byte(cfg), p.MySQL); err != nil {
			return nil, fmt.Errorf("stored config is damaged: %w", err)
		}
		p.MySQL.Password = pw
	case KindKafka:
		p.Kafka = new(KafkaProfile)
		if err := json.Unmarshal([]byte(cfg), p.Kafka); err != nil {
			return nil, fmt.Errorf("stored config is damaged: %w", err)
		}
		p.Kafka.SASL.Password = pw
	}
	return &p, nil
}

func (s *Store) profileWhere(what, where string, arg any, withSecret bool) (*Profile, error) {
	row := s.db.QueryRowContext(context.Background(), "SELECT "+profileCols+" FROM profiles WHERE "+where, arg)
	p, err := s.scanProfile(row, withSecret)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("profile %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read profile %s: %w", what, err)
	}
	return p, nil
}

// Profile returns the profile with the name (case-insensitive), without its password: this is
// what the UI gets.
func (s *Store) Profile(name string) (*Profile, error) {
	return s.profileWhere(fmt.Sprintf("%q", name), "name = ?", strings.TrimSpace(name), false)
}

// ProfileWithSecret returns the profile with the name and its password filled in: this is what
// the engine connects with.
func (s *Store) ProfileWithSecret(name string) (*Profile, error) {
	return s.profileWhere(fmt.Sprintf("%q", name), "name = ?", strings.TrimSpace(name), true)
}

// ProfileByID returns the profile with the ID, without its password.
func (s *Store) ProfileByID(id int64) (*Profile, error) {
	return s.profileWhere(fmt.Sprint(id), "id = ?", id, false)
}

// Profiles lists the profiles of a kind ("" = all) by name, without passwords.
func (s *Store) Profiles(kind string) ([]Profile, error) {
	q := "SELECT " + profileCols + " FROM profiles"
	var args []any
	if kind != "" {
		q += " WHERE kind = ?"
		args = append(args, kind)
	}
	rows, err := s.db.QueryContext(context.Background(), q+" ORDER BY name, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	defer rows.Close()
	out := []Profile{}
	for rows.Next() {
		p, err := s.scanProfile(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list profiles: %w", err)
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	return out, nil
}

// DeleteProfile deletes a profile. It refuses, with ErrInUse, while a task refers to it.
func (s *Store) DeleteProfile(id int64) error {
	ctx := context.Background()
	var name string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var kind string
		err := tx.QueryRowContext(ctx, "SELECT name, kind FROM profiles WHERE id = ?", id).Scan(&name, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		ref := profileRef(kind)
		rows, err := tx.QueryContext(ctx,
			"SELECT name FROM tasks WHERE json_extract(spec, '"+ref+"') = ? COLLATE NOCASE ORDER BY id", name)
		if err != nil {
			return err
		}
		defer rows.Close()
		var users []string
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				return err
			}
			users = append(users, fmt.Sprintf("%q", t))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(users) > 0 {
			return errorf(ErrInUse, "it is used by task %s; point those tasks at another profile or delete them first",
				strings.Join(users, ", "))
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM profiles WHERE id = ?", id)
		return err
	})
	if err != nil {
		if name == "" {
			return fmt.Errorf("delete profile %d: %w", id, err)
		}
		return fmt.Errorf("delete profile %q: %w", name, err)
	}
	return nil
}

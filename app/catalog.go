package app

import (
	"context"
	"fmt"
	"sort"
	"time"

	"tributary/engine/kafka"
	"tributary/engine/mysql"
	"tributary/engine/task"
)

// Catalog browses the source's databases and the destination's topics.
type Catalog struct{ a *App }

// TableNode is a table in the source tree.
type TableNode struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	HasKey bool   `json:"hasKey"`
	Engine string `json:"engine"`
}

// DatabaseNode is a database in the source tree.
type DatabaseNode struct {
	Name   string      `json:"name"`
	Tables []TableNode `json:"tables"`
}

// ColumnInfo is a column for the partition-key picker.
type ColumnInfo struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	PrimaryKey bool   `json:"primaryKey"`
	Nullable   bool   `json:"nullable"`
}

// TopicInfo is a topic of the destination.
type TopicInfo struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
}

func (c *Catalog) source(src task.Source) (*task.MySQL, error) {
	t, err := c.a.Resolve(task.Task{Source: src})
	if err != nil {
		return nil, err
	}
	if t.Source.Port == 0 {
		t.Source.Port = 3306
	}
	return &t.Source.MySQL, nil
}

// Databases lists the source's databases and tables (base tables only: DTS migrates tables).
func (c *Catalog) Databases(src task.Source) ([]DatabaseNode, error) {
	m, err := c.source(src)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := mysql.Connect(ctx, m)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tables, err := mysql.ListTables(ctx, conn)
	if err != nil {
		return nil, err
	}
	byDB := map[string]*DatabaseNode{}
	var order []string
	for _, t := range tables {
		if t.Type != "BASE TABLE" && t.Type != "SYSTEM VERSIONED" {
			continue
		}
		d := byDB[t.Database]
		if d == nil {
			d = &DatabaseNode{Name: t.Database}
			byDB[t.Database] = d
			order = append(order, t.Database)
		}
		d.Tables = append(d.Tables, TableNode{Name: t.Name, Rows: t.Rows, HasKey: t.HasKey, Engine: t.Engine})
	}
	sort.Strings(order)
	out := make([]DatabaseNode, 0, len(order))
	for _, n := range order {
		out = append(out, *byDB[n])
	}
	return out, nil
}

// Columns lists a table's columns.
func (c *Catalog) Columns(src task.Source, db, table string) ([]ColumnInfo, error) {
	m, err := c.source(src)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := mysql.Connect(ctx, m)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ref := mysql.Ref{Database: db, Table: table}
	ts, err := mysql.LoadTables(ctx, conn, []mysql.Ref{ref})
	if err != nil {
		return nil, err
	}
	t := ts[ref]
	if t == nil {
		return nil, fmt.Errorf("table %s.%s does not exist on the source", db, table)
	}
	out := make([]ColumnInfo, len(t.Columns))
	for i, col := range t.Columns {
		out[i] = ColumnInfo{Name: col.Name, Type: col.ColumnType, PrimaryKey: col.InPrimaryKey, Nullable: col.Nullable}
	}
	return out, nil
}

// Topics lists the destination's topics.
func (c *Catalog) Topics(dest task.Destination) ([]TopicInfo, error) {
	t, err := c.a.Resolve(task.Task{Destination: dest})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kafka.NewClient(ctx, &t.Destination.Kafka, kafka.Settings{})
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	topics, err := kafka.Topics(cl)
	if err != nil {
		return nil, kafka.Explain(err, &t.Destination.Kafka)
	}
	out := make([]TopicInfo, 0, len(topics))
	for n, p := range topics {
		out = append(out, TopicInfo{Name: n, Partitions: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// VerifyFilter checks a filter condition: it must parse as one expression over the table's own
// columns, and run on the source.
func (c *Catalog) VerifyFilter(src task.Source, db, table, filter string) (TestResult, error) {
	m, err := c.source(src)
	if err != nil {
		return TestResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := mysql.Connect(ctx, m)
	if err != nil {
		return TestResult{Message: err.Error()}, nil
	}
	defer conn.Close()
	ref := mysql.Ref{Database: db, Table: table}
	ts, err := mysql.LoadTables(ctx, conn, []mysql.Ref{ref})
	if err != nil {
		return TestResult{Message: err.Error()}, nil
	}
	t := ts[ref]
	if t == nil {
		return TestResult{Message: fmt.Sprintf("table %s.%s does not exist on the source", db, table)}, nil
	}
	if err := mysql.CheckFilter(t, filter); err != nil {
		return TestResult{Message: err.Error()}, nil
	}
	if err := mysql.RunFilter(conn, t, filter); err != nil {
		return TestResult{Message: err.Error()}, nil
	}
	return TestResult{OK: true, Message: "The filter condition is valid and runs on the source"}, nil
}

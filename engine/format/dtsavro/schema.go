package dtsavro

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// SchemaFile is the DTS Avro schema file exactly as published (LioRoger/subscribe_example
// avro/Record.avsc, 2020, with bornTimestamp): a JSON array of the named types, Record last.
//
//go:embed schema/Record.avsc
var SchemaFile string

// Schema2019File is the 2019 version of the same file (no bornTimestamp), the schema the Java
// subscription SDK still compiles against. Output must stay readable with it.
//
//go:embed schema/Record.2019.avsc
var Schema2019File string

// Namespace is the Avro namespace of every DTS type.
const Namespace = "com.alibaba.dts.formats.avro"

// RecordName is the full name of the top-level type.
const RecordName = Namespace + ".Record"

var (
	recordSchema     = mustRecordSchema(SchemaFile)
	recordSchema2019 = mustRecordSchema(Schema2019File)
)

// RecordSchema returns the Record schema of SchemaFile as one self-contained JSON document:
// the named types the file declares side by side are inlined at their first use. A message is
// the Avro binary encoding of one Record under this schema (no union index in front, no
// container, no single-object header); it is also the schema registered with a schema
// registry.
func RecordSchema() string { return recordSchema }

// RecordSchema2019 is RecordSchema for Schema2019File.
func RecordSchema2019() string { return recordSchema2019 }

func mustRecordSchema(file string) string {
	s, err := InlineRecordSchema(file)
	if err != nil {
		panic(err)
	}
	return s
}

// InlineRecordSchema turns a schema file that is a JSON array of named types into the
// self-contained schema of its type named Record.
func InlineRecordSchema(file string) (string, error) {
	var defs []any
	if err := json.Unmarshal([]byte(file), &defs); err != nil {
		return "", fmt.Errorf("dts avro schema: %w", err)
	}
	byName := map[string]map[string]any{}
	var record map[string]any
	for _, d := range defs {
		m, ok := d.(map[string]any)
		if !ok {
			return "", fmt.Errorf("dts avro schema: top-level item is not a named type")
		}
		full := fullName(m, "")
		byName[full] = m
		if strings.HasSuffix(full, ".Record") || full == "Record" {
			record = m
		}
	}
	if record == nil {
		return "", fmt.Errorf("dts avro schema: no Record type")
	}
	in := inliner{defs: byName, done: map[string]bool{}}
	out := in.node(record, "")
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("dts avro schema: %w", err)
	}
	return string(b), nil
}

func fullName(m map[string]any, enclosing string) string {
	name, _ := m["name"].(string)
	if strings.Contains(name, ".") {
		return name
	}
	ns, _ := m["namespace"].(string)
	if ns == "" {
		ns = enclosing
	}
	if ns == "" {
		return name
	}
	return ns + "." + name
}

func namespaceOf(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i]
	}
	return ""
}

type inliner struct {
	defs map[string]map[string]any
	done map[string]bool
}

var primitives = map[string]bool{"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true}

// node returns a copy of a schema node with references to not yet defined types replaced by
// their definitions.
func (in *inliner) node(n any, ns string) any {
	switch v := n.(type) {
	case string:
		if primitives[v] {
			return v
		}
		full := v
		if !strings.Contains(v, ".") && ns != "" {
			full = ns + "." + v
		}
		if in.done[full] {
			return full
		}
		if def, ok := in.defs[full]; ok {
			return in.node(def, namespaceOf(full))
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = in.node(x, ns)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = x
		}
		switch t, _ := v["type"].(string); t {
		case "record", "error", "enum", "fixed":
			full := fullName(v, ns)
			in.done[full] = true
			out["name"] = full
			delete(out, "namespace")
			if t == "record" || t == "error" {
				fields, _ := v["fields"].([]any)
				nf := make([]any, len(fields))
				for i, f := range fields {
					fm := f.(map[string]any)
					c := make(map[string]any, len(fm))
					for k, x := range fm {
						c[k] = x
					}
					// A field has no namespace of its own (the Record's "operation" field
					// carries one, which Avro ignores).
					delete(c, "namespace")
					c["type"] = in.node(fm["type"], namespaceOf(full))
					nf[i] = c
				}
				out["fields"] = nf
			}
		case "array":
			out["items"] = in.node(v["items"], ns)
		case "map":
			out["values"] = in.node(v["values"], ns)
		default:
			out["type"] = in.node(v["type"], ns)
		}
		return out
	}
	return n
}

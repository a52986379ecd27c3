package task

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// FieldError is one problem with one field of a task file.
type FieldError struct {
	// Path is the JSON path of the field, e.g. "$.objects[1].partitions".
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Errors is every problem found in a task file.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// AsErrors returns the field errors inside err, if any.
func AsErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return Errors{fe}
	}
	return nil
}

// Parse reads a task file strictly: unknown fields, wrong types and out-of-range values are
// reported with their JSON path and what is allowed. Defaults are applied to what is absent.
func Parse(data []byte) (*Task, error) {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, Errors{{Path: "$", Message: "not valid JSON: " + jsonSyntax(data, err)}}
	}
	if dec.More() {
		return nil, Errors{{Path: "$", Message: "not valid JSON: more than one value in the file"}}
	}
	var errs Errors
	checkShape(reflect.TypeOf(Task{}), raw, "$", &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	var t Task
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, Errors{{Path: "$", Message: err.Error()}}
	}
	if t.Version == 0 {
		return nil, Errors{{Path: "$.version", Message: fmt.Sprintf("missing; this Tributary reads version %d", Version)}}
	}
	t.Defaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

func jsonSyntax(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("%s (line %d)", se.Error(), line)
	}
	return err.Error()
}

// checkShape walks a decoded JSON value against the Go type it must fill.
func checkShape(t reflect.Type, v any, path string, errs *Errors) {
	if v == nil {
		return // null leaves the zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			*errs = append(*errs, FieldError{path, "must be an object, found " + jsonKind(v)})
			return
		}
		fields := map[string]reflect.Type{}
		collectFields(t, fields)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				*errs = append(*errs, FieldError{path + "." + k, "unknown field; allowed here: " + strings.Join(sortedKeysT(fields), ", ")})
				continue
			}
			checkShape(ft, obj[k], path+"."+k, errs)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			*errs = append(*errs, FieldError{path, "must be an array, found " + jsonKind(v)})
			return
		}
		for i, e := range arr {
			checkShape(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			*errs = append(*errs, FieldError{path, "must be a string, found " + jsonKind(v)})
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			*errs = append(*errs, FieldError{path, "must be true or false, found " + jsonKind(v)})
		}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			*errs = append(*errs, FieldError{path, "must be a whole number, found " + jsonKind(v)})
			return
		}
		if _, err := n.Int64(); err != nil {
			*errs = append(*errs, FieldError{path, "must be a whole number, found " + n.String()})
		} else if (t.Kind() == reflect.Uint32 || t.Kind() == reflect.Uint64) && strings.HasPrefix(n.String(), "-") {
			*errs = append(*errs, FieldError{path, "must not be negative, found " + n.String()})
		} else if t.Kind() == reflect.Uint32 {
			if x, _ := n.Int64(); x > 1<<32-1 {
				*errs = append(*errs, FieldError{path, "must be at most 4294967295, found " + n.String()})
			}
		}
	case reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			*errs = append(*errs, FieldError{path, "must be a number, found " + jsonKind(v)})
		}
	}
}

func collectFields(t reflect.Type, into map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			collectFields(f.Type, into)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		into[name] = f.Type
	}
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("%v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortedKeysT(m map[string]reflect.Type) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Marshal writes a task file, indented, as `tributary task export` does.
func Marshal(t *Task) ([]byte, error) {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

package mysql

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"

	"tributary/engine/event"
)

// Filter evaluates a filter condition on row images, for incremental migration (DTS
// semantics: reference §3.5). It handles comparison, AND/OR/XOR/NOT, IN, BETWEEN, LIKE,
// IS [NOT] NULL, IS [NOT] TRUE/FALSE and arithmetic, with MySQL's comparison rules:
//
//   - NULL makes a comparison unknown, and an unknown condition does not match;
//   - a numeric column compares numerically (exactly: decimals as rationals), also against a
//     quoted number;
//   - DATE/DATETIME/TIMESTAMP/TIME compare as temporal values ('2020-01-01' equals
//     '2020-01-01 00:00:00');
//   - character columns compare case-insensitively with trailing spaces ignored (the default
//     *_ci PAD SPACE collations); binary columns compare byte by byte.
//
// Anything else (functions, subqueries, variables) is rejected by CompileFilter, so a filter
// that is accepted when the task is saved can always be evaluated at run time.
type Filter struct {
	expr   ast.ExprNode
	source string
	cache  sync.Map // *event.Table → *compiled
}

type compiled struct {
	t    *event.Table
	expr ast.ExprNode
}

// CompileFilter parses a filter and checks that every part of it can be evaluated. It returns
// nil for an empty filter.
func CompileFilter(filter string) (*Filter, error) {
	expr, err := ParseFilter(filter)
	if err != nil || expr == nil {
		return nil, err
	}
	if err := evaluable(expr); err != nil {
		return nil, err
	}
	return &Filter{expr: expr, source: filter}, nil
}

// String returns the filter's text.
func (f *Filter) String() string { return f.source }

func evaluable(n ast.ExprNode) error {
	switch x := n.(type) {
	case *ast.ParenthesesExpr:
		return evaluable(x.Expr)
	case *ast.ColumnNameExpr, *driver.ValueExpr:
		return nil
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor, opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE,
			opcode.NullEQ, opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.Mod, opcode.IntDiv:
		default:
			return fmt.Errorf("the operator %s cannot be used in a filter condition of incremental migration", x.Op)
		}
		if err := evaluable(x.L); err != nil {
			return err
		}
		return evaluable(x.R)
	case *ast.UnaryOperationExpr:
		switch x.Op {
		case opcode.Not, opcode.Not2, opcode.Minus, opcode.Plus:
		default:
			return fmt.Errorf("the operator %s cannot be used in a filter condition of incremental migration", x.Op)
		}
		return evaluable(x.V)
	case *ast.PatternInExpr:
		if x.Sel != nil {
			return fmt.Errorf("subqueries are not supported in filter conditions")
		}
		if err := evaluable(x.Expr); err != nil {
			return err
		}
		for _, e := range x.List {
			if err := evaluable(e); err != nil {
				return err
			}
		}
		return nil
	case *ast.BetweenExpr:
		for _, e := range []ast.ExprNode{x.Expr, x.Left, x.Right} {
			if err := evaluable(e); err != nil {
				return err
			}
		}
		return nil
	case *ast.PatternLikeOrIlikeExpr:
		if err := evaluable(x.Expr); err != nil {
			return err
		}
		return evaluable(x.Pattern)
	case *ast.IsNullExpr:
		return evaluable(x.Expr)
	case *ast.IsTruthExpr:
		return evaluable(x.Expr)
	case *ast.FuncCallExpr:
		return fmt.Errorf("the function %s() cannot be evaluated on binlog rows: filter conditions of incremental migration may use columns, literals, comparison, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL and arithmetic", x.FnName.O)
	}
	return fmt.Errorf("this part of the filter condition cannot be evaluated on binlog rows (%T): use columns, literals, comparison, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL and arithmetic", n)
}

// Match evaluates the filter on one row image of table t. Unknown (NULL) does not match.
func (f *Filter) Match(t *event.Table, row event.Row) (bool, error) {
	if f == nil {
		return true, nil
	}
	v, err := (&evalCtx{t: t, row: row}).eval(f.expr)
	if err != nil {
		return false, fmt.Errorf("filter %q on %s: %w", f.source, t.QualifiedName(), err)
	}
	return v.truth() == 1, nil
}

// val is an evaluated value: NULL, a number (exact), or a string with how it compares.
type val struct {
	null bool
	num  *big.Rat // numbers
	str  []byte   // strings and temporal values
	// col is the column a string came from (its type decides comparisons), nil for literals.
	col *event.Column
}

func (v val) isNum() bool { return !v.null && v.num != nil }

// truth: 1 true, 0 false, -1 unknown.
func (v val) truth() int {
	if v.null {
		return -1
	}
	if v.num != nil {
		if v.num.Sign() != 0 {
			return 1
		}
		return 0
	}
	if r, ok := parseNum(v.str); ok && r.Sign() != 0 {
		return 1
	}
	return 0
}

func boolVal(b bool) val {
	if b {
		return val{num: big.NewRat(1, 1)}
	}
	return val{num: new(big.Rat)}
}

type evalCtx struct {
	t   *event.Table
	row event.Row
}

func isNumericType(dt string) bool {
	switch dt {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double", "bit", "year":
		return true
	}
	return false
}

func isTemporalType(dt string) bool {
	switch dt {
	case "date", "datetime", "timestamp", "time":
		return true
	}
	return false
}

func isBinaryType(dt string) bool {
	switch dt {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry":
		return true
	}
	return false
}

func parseNum(b []byte) (*big.Rat, bool) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return new(big.Rat), false
	}
	r, ok := new(big.Rat).SetString(s)
	if ok {
		return r, true
	}
	// MySQL reads the leading number of a string ('12abc' → 12, 'abc' → 0).
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || (end == 0 && (s[end] == '-' || s[end] == '+'))) {
		end++
	}
	if r, ok := new(big.Rat).SetString(s[:end]); ok {
		return r, false
	}
	return new(big.Rat), false
}

func (c *evalCtx) eval(n ast.ExprNode) (val, error) {
	switch x := n.(type) {
	case *ast.ParenthesesExpr:
		return c.eval(x.Expr)
	case *ast.ColumnNameExpr:
		i := c.t.ColumnIndex(x.Name.Name.O)
		if i < 0 {
			return val{}, fmt.Errorf("column %s does not exist in %s at this point of the binlog", x.Name.Name.O, c.t.QualifiedName())
		}
		col := &c.t.Columns[i]
		v := c.row[i]
		if v == nil {
			return val{null: true}, nil
		}
		if isNumericType(col.DataType) {
			r, _ := parseNum(v)
			return val{num: r, col: col}, nil
		}
		return val{str: v, col: col}, nil
	case *driver.ValueExpr:
		switch d := x.Datum.GetValue().(type) {
		case nil:
			return val{null: true}, nil
		case int64:
			return val{num: new(big.Rat).SetInt64(d)}, nil
		case uint64:
			return val{num: new(big.Rat).SetUint64(d)}, nil
		case float64:
			r := new(big.Rat)
			r.SetFloat64(d)
			return val{num: r}, nil
		case float32:
			r := new(big.Rat)
			r.SetFloat64(float64(d))
			return val{num: r}, nil
		case string:
			return val{str: []byte(d)}, nil
		case []byte:
			return val{str: d}, nil
		case *driver.MyDecimal:
			r, _ := new(big.Rat).SetString(d.String())
			return val{num: r}, nil
		case driver.BinaryLiteral:
			return val{str: []byte(d)}, nil
		default:
			return val{str: []byte(fmt.Sprint(d))}, nil
		}
	case *ast.UnaryOperationExpr:
		v, err := c.eval(x.V)
		if err != nil || v.null {
			return v, err
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			return boolVal(v.truth() == 0), nil
		case opcode.Minus:
			r := toNum(v)
			return val{num: r.Neg(r)}, nil
		}
		return val{num: toNum(v)}, nil
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
			l, err := c.eval(x.L)
			if err != nil {
				return val{}, err
			}
			r, err := c.eval(x.R)
			if err != nil {
				return val{}, err
			}
			a, b := l.truth(), r.truth()
			switch x.Op {
			case opcode.LogicAnd:
				if a == 0 || b == 0 {
					return boolVal(false), nil
				}
				if a < 0 || b < 0 {
					return val{null: true}, nil
				}
				return boolVal(true), nil
			case opcode.LogicOr:
				if a == 1 || b == 1 {
					return boolVal(true), nil
				}
				if a < 0 || b < 0 {
					return val{null: true}, nil
				}
				return boolVal(false), nil
			default:
				if a < 0 || b < 0 {
					return val{null: true}, nil
				}
				return boolVal(a != b), nil
			}
		}
		l, err := c.eval(x.L)
		if err != nil {
			return val{}, err
		}
		r, err := c.eval(x.R)
		if err != nil {
			return val{}, err
		}
		switch x.Op {
		case opcode.NullEQ:
			if l.null || r.null {
				return boolVal(l.null && r.null), nil
			}
			return boolVal(compare(l, r) == 0), nil
		case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE:
			if l.null || r.null {
				return val{null: true}, nil
			}
			cmp := compare(l, r)
			return boolVal(map[opcode.Op]bool{opcode.EQ: cmp == 0, opcode.NE: cmp != 0, opcode.LT: cmp < 0,
				opcode.LE: cmp <= 0, opcode.GT: cmp > 0, opcode.GE: cmp >= 0}[x.Op]), nil
		}
		if l.null || r.null {
			return val{null: true}, nil
		}
		a, b := toNum(l), toNum(r)
		out := new(big.Rat)
		switch x.Op {
		case opcode.Plus:
			out.Add(a, b)
		case opcode.Minus:
			out.Sub(a, b)
		case opcode.Mul:
			out.Mul(a, b)
		case opcode.Div, opcode.IntDiv, opcode.Mod:
			if b.Sign() == 0 {
				return val{null: true}, nil // MySQL: division by zero is NULL
			}
			switch x.Op {
			case opcode.Div:
				out.Quo(a, b)
			case opcode.IntDiv:
				q := new(big.Int).Quo(new(big.Int).Quo(a.Num(), a.Denom()), big.NewInt(1))
				qa := new(big.Rat).Quo(a, b)
				q.Quo(qa.Num(), qa.Denom())
				out.SetInt(q)
			default:
				qa := new(big.Rat).Quo(a, b)
				q := new(big.Int).Quo(qa.Num(), qa.Denom())
				out.Sub(a, new(big.Rat).Mul(new(big.Rat).SetInt(q), b))
			}
		}
		return val{num: out}, nil
	case *ast.IsNullExpr:
		v, err := c.eval(x.Expr)
		if err != nil {
			return val{}, err
		}
		return boolVal(v.null != x.Not), nil
	case *ast.IsTruthExpr:
		v, err := c.eval(x.Expr)
		if err != nil {
			return val{}, err
		}
		is := v.truth() == int(x.True)
		if x.True == 0 {
			is = v.truth() == 0
		}
		return boolVal(is != x.Not), nil
	case *ast.BetweenExpr:
		vs, err := c.evalAll(x.Expr, x.Left, x.Right)
		if err != nil || vs == nil {
			return val{null: true}, err
		}
		in := compare(vs[0], vs[1]) >= 0 && compare(vs[0], vs[2]) <= 0
		return boolVal(in != x.Not), nil
	case *ast.PatternInExpr:
		v, err := c.eval(x.Expr)
		if err != nil {
			return val{}, err
		}
		if v.null {
			return val{null: true}, nil
		}
		sawNull := false
		for _, e := range x.List {
			w, err := c.eval(e)
			if err != nil {
				return val{}, err
			}
			if w.null {
				sawNull = true
				continue
			}
			if compare(v, w) == 0 {
				return boolVal(!x.Not), nil
			}
		}
		if sawNull {
			return val{null: true}, nil
		}
		return boolVal(x.Not), nil
	case *ast.PatternLikeOrIlikeExpr:
		vs, err := c.evalAll(x.Expr, x.Pattern)
		if err != nil || vs == nil {
			return val{null: true}, err
		}
		v, p := vs[0], vs[1]
		fold := v.col == nil || !isBinaryType(v.col.DataType) || !x.IsLike
		esc := x.Escape
		if esc == 0 {
			esc = '\\'
		}
		m := like(textOf(v), textOf(p), esc, fold)
		return boolVal(m != x.Not), nil
	}
	return val{}, fmt.Errorf("cannot evaluate %T", n)
}

// evalAll evaluates operands in order; it returns nil values (and no error) when any is NULL.
func (c *evalCtx) evalAll(nodes ...ast.ExprNode) ([]val, error) {
	out := make([]val, len(nodes))
	null := false
	for i, n := range nodes {
		v, err := c.eval(n)
		if err != nil {
			return nil, err
		}
		null = null || v.null
		out[i] = v
	}
	if null {
		return nil, nil
	}
	return out, nil
}

func toNum(v val) *big.Rat {
	if v.num != nil {
		return new(big.Rat).Set(v.num)
	}
	r, _ := parseNum(v.str)
	return r
}

func textOf(v val) []byte {
	if v.num != nil {
		return []byte(ratString(v.num))
	}
	return v.str
}

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return strings.TrimRight(strings.TrimRight(r.FloatString(30), "0"), ".")
}

// compare orders two non-NULL values by MySQL's rules for the column involved.
func compare(a, b val) int {
	col := a.col
	if col == nil {
		col = b.col
	}
	switch {
	case a.num != nil || b.num != nil:
		if col != nil && !isNumericType(col.DataType) && a.num != nil && b.num != nil {
			return a.num.Cmp(b.num)
		}
		return toNum(a).Cmp(toNum(b))
	case col != nil && isTemporalType(col.DataType):
		return bytes.Compare(normTemporal(a.str, col.DataType), normTemporal(b.str, col.DataType))
	case col != nil && isBinaryType(col.DataType):
		return bytes.Compare(a.str, b.str)
	}
	return bytes.Compare(foldPad(a.str), foldPad(b.str))
}

// normTemporal brings a temporal text to a fixed-width form: dates padded with a zero time,
// fractions to 6 digits, so that text order is time order.
func normTemporal(s []byte, dt string) []byte {
	t := strings.TrimSpace(string(s))
	if dt == "time" {
		neg := strings.HasPrefix(t, "-")
		t = strings.TrimPrefix(t, "-")
		h, rest, _ := strings.Cut(t, ":")
		for len(h) < 3 {
			h = "0" + h
		}
		t = h + ":" + rest
		if !strings.Contains(t, ".") {
			t += "."
		}
		for len(t) < len("000:00:00.000000") {
			t += "0"
		}
		if neg {
			// Order negative times before positive ones (approximately: by magnitude inverted).
			b := []byte(t)
			for i := range b {
				if b[i] >= '0' && b[i] <= '9' {
					b[i] = '9' - (b[i] - '0')
				}
			}
			return append([]byte{'-'}, b...)
		}
		return append([]byte{'0'}, t...)
	}
	if len(t) == 10 {
		t += " 00:00:00"
	}
	if len(t) >= 19 && !strings.Contains(t, ".") {
		t += "."
	}
	for len(t) < 26 {
		t += "0"
	}
	return []byte(t)
}

// foldPad lower-cases (ASCII and Unicode) and drops trailing spaces, like *_ci PAD SPACE.
func foldPad(b []byte) []byte {
	return bytes.ToLower(bytes.TrimRight(b, " "))
}

// like matches MySQL LIKE: % any run, _ one character, esc escapes.
func like(s, p []byte, esc byte, fold bool) bool {
	if fold {
		s, p = bytes.ToLower(s), bytes.ToLower(p)
	}
	rs, rp := []rune(string(s)), []rune(string(p))
	var match func(i, j int) bool
	memo := map[[2]int]bool{}
	match = func(i, j int) bool {
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		var res bool
		switch {
		case j == len(rp):
			res = i == len(rs)
		case rp[j] == rune(esc) && j+1 < len(rp):
			res = i < len(rs) && rs[i] == rp[j+1] && match(i+1, j+2)
		case rp[j] == '%':
			res = match(i, j+1) || (i < len(rs) && match(i+1, j))
		case rp[j] == '_':
			res = i < len(rs) && match(i+1, j+1)
		default:
			res = i < len(rs) && rs[i] == rp[j] && match(i+1, j+1)
		}
		memo[key] = res
		return res
	}
	return match(0, 0)
}

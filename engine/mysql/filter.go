package mysql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values in parsed expressions

	"tributary/engine/event"
)

// ParseFilter parses a filter condition (an SQL WHERE clause without WHERE) into one
// expression, or says why it is not one.
func ParseFilter(filter string) (ast.ExprNode, error) {
	f := strings.TrimSpace(filter)
	if f == "" {
		return nil, nil
	}
	if strings.Contains(f, ";") {
		return nil, fmt.Errorf("the filter condition must not contain ';': give one condition without WHERE, e.g. id>100")
	}
	if len(f) > 5 && strings.EqualFold(f[:6], "where ") {
		return nil, fmt.Errorf("leave out the keyword WHERE: give only the condition, e.g. id>100")
	}
	p := parser.New()
	stmts, _, err := p.Parse("SELECT 1 FROM t WHERE "+f, "", "")
	if err != nil {
		return nil, fmt.Errorf("the filter condition is not valid SQL: %s", cleanParseError(err))
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("the filter condition must be a single expression")
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok || sel.Where == nil || sel.GroupBy != nil || sel.OrderBy != nil || sel.Limit != nil || sel.Having != nil {
		return nil, fmt.Errorf("the filter condition must be a single expression, without GROUP BY, ORDER BY, LIMIT or HAVING")
	}
	return sel.Where, nil
}

func cleanParseError(err error) string {
	s := err.Error()
	s = strings.Replace(s, `near "`, `near "`, 1)
	if i := strings.Index(s, "line 1 column "); i >= 0 {
		return s[i:]
	}
	return s
}

// CheckFilter checks that a filter is one expression over the table's own columns, with no
// subquery.
func CheckFilter(t *event.Table, filter string) error {
	expr, err := ParseFilter(filter)
	if err != nil || expr == nil {
		return err
	}
	v := &filterVisitor{t: t}
	expr.Accept(v)
	if v.err != nil {
		return v.err
	}
	if len(v.unknown) > 0 {
		sort.Strings(v.unknown)
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		return fmt.Errorf("the filter condition names %s, not a column of %s (columns: %s); filters may only use the table's own columns",
			strings.Join(v.unknown, ", "), t.QualifiedName(), strings.Join(names, ", "))
	}
	return nil
}

type filterVisitor struct {
	t       *event.Table
	err     error
	unknown []string
}

func (v *filterVisitor) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr:
		v.err = fmt.Errorf("subqueries are not supported in filter conditions (as in DTS): use only the table's own columns")
		return n, true
	case *ast.ColumnNameExpr:
		name := x.Name.Name.O
		if x.Name.Table.O != "" && !strings.EqualFold(x.Name.Table.O, v.t.Name) {
			v.err = fmt.Errorf("the filter condition refers to table %q: filters may only use the columns of %s", x.Name.Table.O, v.t.QualifiedName())
			return n, true
		}
		if v.t.ColumnIndex(name) < 0 {
			v.unknown = append(v.unknown, name)
		}
	case *ast.VariableExpr:
		v.err = fmt.Errorf("variables are not allowed in filter conditions")
		return n, true
	}
	return n, false
}

func (v *filterVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, v.err == nil }

// RunFilter runs `SELECT … WHERE <filter> LIMIT 0` on the source, so that what the parser
// accepts but the server does not is caught before the task starts.
func RunFilter(conn *client.Conn, t *event.Table, filter string) error {
	if strings.TrimSpace(filter) == "" {
		return nil
	}
	q := "SELECT 1 FROM " + QuoteName(t.Database) + "." + QuoteName(t.Name) + " WHERE (" + filter + ") LIMIT 0"
	if _, err := conn.Execute(q); err != nil {
		return fmt.Errorf("the source rejects the filter condition of %s: %v", t.QualifiedName(), err)
	}
	return nil
}

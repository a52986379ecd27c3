package precheck

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
)

const timeLayout = "2006-01-02 15:04:05 MST"

func resultLabel(it Item) string {
	switch it.Result {
	case ResultPassed:
		return "Passed"
	case ResultWarning:
		if it.Ignored {
			return "Warning (ignored)"
		}
		return "Warning"
	case ResultFailed:
		return "Failed"
	}
	return it.Result
}

type summary struct {
	Passed, Warnings, Ignored, Failed int
	OK                                bool
}

func summarize(items []Item) summary {
	var s summary
	for _, it := range items {
		switch it.Result {
		case ResultPassed:
			s.Passed++
		case ResultWarning:
			s.Warnings++
			if it.Ignored {
				s.Ignored++
			}
		default:
			s.Failed++
		}
	}
	s.OK = Passed(items)
	return s
}

func (s summary) verdict() string {
	if s.OK {
		return "Passed: the task may start"
	}
	return "Not passed: fix the failed items and fix or ignore the warnings"
}

func (s summary) counts() string {
	return fmt.Sprintf("%d passed, %d warnings (%d ignored), %d failed", s.Passed, s.Warnings, s.Ignored, s.Failed)
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// mdText escapes text for a Markdown list item (no HTML, no emphasis surprises).
func mdText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// fence picks a code fence longer than any backtick run in s.
func fence(s string) string {
	n, run := 3, 0
	for _, c := range s {
		if c == '`' {
			run++
			if run >= n {
				n = run + 1
			}
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", n)
}

// Markdown renders a precheck report.
func Markdown(name string, at time.Time, items []Item) string {
	s := summarize(items)
	var b strings.Builder
	fmt.Fprintf(&b, "# Precheck report: %s\n\n", mdText(name))
	fmt.Fprintf(&b, "- Checked: %s\n", at.Format(timeLayout))
	fmt.Fprintf(&b, "- Result: **%s** (%s)\n\n", s.verdict(), s.counts())
	b.WriteString("| # | Item | Code | Result |\n|---|---|---|---|\n")
	for i, it := range items {
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s |\n", i+1, mdCell(it.Name), mdCell(it.Code), resultLabel(it))
	}
	for i, it := range items {
		fmt.Fprintf(&b, "\n## %d. %s: %s\n\n", i+1, mdText(it.Name), resultLabel(it))
		fmt.Fprintf(&b, "Code: `%s`", it.Code)
		if it.Ignorable {
			b.WriteString(" (can be ignored)")
		}
		b.WriteString("\n\n")
		if len(it.Details) > 0 {
			for _, d := range it.Details {
				fmt.Fprintf(&b, "- %s\n", mdText(d))
			}
			b.WriteString("\n")
		}
		if it.Fix != "" && it.Result != ResultPassed {
			f := fence(it.Fix)
			fmt.Fprintf(&b, "**Fix:**\n\n%s\n%s\n%s\n", f, it.Fix, f)
		}
	}
	return b.String()
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"label": resultLabel,
	"inc":   func(i int) int { return i + 1 },
	"class": func(it Item) string {
		if it.Result == ResultWarning && it.Ignored {
			return "ignored"
		}
		return it.Result
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Precheck report: {{.Name}}</title>
<style>
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2em auto;max-width:60em;color:#1f2328;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #d0d7de;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.7em;overflow-x:auto;white-space:pre-wrap}
.passed{color:#1a7f37}.warning{color:#9a6700}.failed{color:#cf222e}.ignored{color:#57606a}
.badge{font-weight:600}
section{border-top:1px solid #d0d7de;margin-top:1.2em}
.verdict{font-size:1.1em;font-weight:600}
</style>
</head>
<body>
<h1>Precheck report: {{.Name}}</h1>
<p>Checked: {{.At}}</p>
<p class="verdict {{if .Summary.OK}}passed{{else}}failed{{end}}">{{.Verdict}} ({{.Counts}})</p>
<table>
<thead><tr><th>#</th><th>Item</th><th>Code</th><th>Result</th></tr></thead>
<tbody>
{{range $i, $it := .Items}}<tr><td>{{inc $i}}</td><td><a href="#{{$it.Code}}">{{$it.Name}}</a></td><td><code>{{$it.Code}}</code></td><td class="badge {{class $it}}">{{label $it}}</td></tr>
{{end}}</tbody>
</table>
{{range $i, $it := .Items}}<section id="{{$it.Code}}">
<h2>{{inc $i}}. {{$it.Name}}: <span class="{{class $it}}">{{label $it}}</span></h2>
<p>Code: <code>{{$it.Code}}</code>{{if $it.Ignorable}} (can be ignored){{end}}</p>
{{if $it.Details}}<ul>
{{range $it.Details}}<li>{{.}}</li>
{{end}}</ul>{{end}}
{{if and $it.Fix (ne $it.Result "passed")}}<p><strong>Fix:</strong></p>
<pre>{{$it.Fix}}</pre>{{end}}
</section>
{{end}}</body>
</html>
`))

// HTML renders a self-contained precheck report (inline CSS, every value escaped).
func HTML(name string, at time.Time, items []Item) string {
	s := summarize(items)
	var b bytes.Buffer
	err := htmlReport.Execute(&b, map[string]any{
		"Name": name, "At": at.Format(timeLayout), "Items": items, "Summary": s,
		"Verdict": s.verdict(), "Counts": s.counts(),
	})
	if err != nil { // the template is fixed; this cannot happen with valid data
		return "<!DOCTYPE html><p>" + template.HTMLEscapeString(err.Error()) + "</p>"
	}
	return b.String()
}

package report

import (
	"fmt"
	"html/template"
	"io"
)

// chartW and chartH are the size of a chart in reports, in points.
const chartW, chartH = 520, 300

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{"text": Text, "isNum": isNum}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.D.Title}} – {{.Flow}}</title>
<style>
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  margin: 24px auto; max-width: 1100px; color: #202020; padding: 0 16px; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 19px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 16px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.tile b { display: block; font-size: 22px; }
.tile.ok b { color: #009E73; } .tile.failed b { color: #D55E00; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { border: 1px solid #eee; border-radius: 6px; }
.chart svg { display: block; width: 520px; height: 300px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: #777; font-style: italic; }
.error { color: #D55E00; }
</style>
</head>
<body>
<h1>{{.D.Title}}</h1>
<p class="meta">Flow: <b>{{.Flow}}</b> · Period: {{.Period}} · Generated {{text .D.Generated}}</p>
<div class="tiles">
<div class="tile"><span>Runs</span><b>{{.D.Summary.Runs}}</b></div>
<div class="tile ok"><span>Succeeded</span><b>{{.D.Summary.Succeeded}}</b></div>
<div class="tile failed"><span>Failed</span><b>{{.D.Summary.Failed}}</b></div>
<div class="tile"><span>Success rate</span><b>{{.Rate}}</b></div>
<div class="tile"><span>Items processed</span><b>{{.D.Summary.Items}}</b></div>
</div>
<h2>Charts</h2>
<div class="charts">
{{range .Charts}}<div class="chart" title="{{.Title}}">{{.SVG}}</div>
{{end}}</div>
{{range .Tables}}<h2>{{.Name}}</h2>
{{if .Rows}}<table>
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if isNum .}} class="num"{{end}}>{{text .}}</td>{{end}}</tr>
{{end}}</table>
{{else}}<p class="empty">None in this period.</p>
{{end}}{{end}}</body>
</html>
`))

// isNum reports whether a cell is a number (aligned right).
func isNum(v any) bool {
	switch v.(type) {
	case int, float64, Percent, Seconds:
		return true
	}
	return false
}

type htmlChart struct {
	Title string
	SVG   template.HTML
}

// WriteHTML writes the report as one self-contained HTML file: inline CSS,
// the charts as inline SVG, no script and no external request.
func WriteHTML(w io.Writer, d *Data) error { return writeHTML(w, d, true) }

// writeHTML writes the page, with or without the charts (see writePDF).
func writeHTML(w io.Writer, d *Data, withCharts bool) error {
	var charts []htmlChart
	for _, c := range Charts {
		if !withCharts {
			break
		}
		svg, err := ChartSVG(d, c, chartW, chartH)
		if err != nil {
			return fmt.Errorf("HTML report: %w", err)
		}
		// The SVG comes from our own renderer, which escapes its text.
		charts = append(charts, htmlChart{c.Title(), template.HTML(stripXMLHeader(svg))})
	}
	err := htmlPage.Execute(w, map[string]any{
		"D": d, "Flow": FlowText(d.Filter), "Period": Period(d.Filter),
		"Rate": Text(Percent(d.Summary.SuccessRate)), "Charts": charts, "Tables": Tables(d),
	})
	if err != nil {
		return fmt.Errorf("HTML report: %w", err)
	}
	return nil
}

// stripXMLHeader drops the <?xml ...?> line and DOCTYPE an SVG file starts
// with: inline SVG in HTML starts at <svg.
func stripXMLHeader(svg []byte) []byte {
	for i := 0; i+4 <= len(svg); i++ {
		if string(svg[i:i+4]) == "<svg" {
			return svg[i:]
		}
	}
	return svg
}

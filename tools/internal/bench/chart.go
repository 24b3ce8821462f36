package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
)

// Panel is one horizontal bar chart: a bar per label, its length in
// proportion to its value, with the value written by Format at its end.
type Panel struct {
	Title  string
	Labels []string
	Values []float64
	Format func(float64) string
}

// Chart geometry, in SVG user units (pixels at 100%).
const (
	chartWidth  = 760
	labelWidth  = 220
	valueWidth  = 90
	barHeight   = 18
	barGap      = 6
	titleHeight = 28
	panelGap    = 18
)

// SVG draws the panels one under the other as an SVG image, so that the
// documentation shows the same results as its table. Labels are escaped.
func SVG(panels ...Panel) ([]byte, error) {
	var body bytes.Buffer
	y := 0
	for _, p := range panels {
		if len(p.Labels) != len(p.Values) {
			return nil, fmt.Errorf("panel %q has %d labels and %d values", p.Title, len(p.Labels), len(p.Values))
		}
		largest := 0.0
		for _, v := range p.Values {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("panel %q: value %v cannot be drawn as a bar", p.Title, v)
			}
			largest = max(largest, v)
		}
		y += titleHeight
		fmt.Fprintf(&body, `<text x="0" y="%d" font-weight="bold">%s</text>`+"\n", y-8, escape(p.Title))
		for i, label := range p.Labels {
			width := 0.0
			if largest > 0 {
				width = p.Values[i] / largest * (chartWidth - labelWidth - valueWidth)
			}
			fmt.Fprintf(&body, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth-8, y+barHeight-5, escape(label))
			fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#4a7ab5"/>`+"\n", labelWidth, y, width, barHeight)
			fmt.Fprintf(&body, `<text x="%.1f" y="%d">%s</text>`+"\n", labelWidth+width+6, y+barHeight-5, escape(p.Format(p.Values[i])))
			y += barHeight + barGap
		}
		y += panelGap
	}
	var svg bytes.Buffer
	fmt.Fprintf(&svg, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		chartWidth, y, chartWidth, y)
	fmt.Fprintf(&svg, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	svg.Write(body.Bytes())
	svg.WriteString("</svg>\n")
	return svg.Bytes(), nil
}

func escape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

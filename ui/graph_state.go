package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
)

// Node states the canvas shows besides selection and the running node.
const (
	NodeStateNone   = ""
	NodeStateFailed = "failed"
)

type nodeState struct{ state, tip string }

// SetNodeState marks node id (failed: drawn red) with a tooltip shown when
// the pointer is on it; state "" clears it.
func (c *FlowCanvas) SetNodeState(id, state, tooltip string) {
	if c.states == nil {
		c.states = map[string]nodeState{}
	}
	if state == NodeStateNone {
		if _, ok := c.states[id]; !ok {
			return
		}
		delete(c.states, id)
	} else {
		c.states[id] = nodeState{state, tooltip}
	}
	c.Refresh()
}

// ClearNodeStates clears every node's state.
func (c *FlowCanvas) ClearNodeStates() {
	if len(c.states) == 0 {
		return
	}
	c.states = nil
	c.hoverTip = ""
	c.Refresh()
}

// NodeState returns node id's state and tooltip.
func (c *FlowCanvas) NodeState(id string) (state, tooltip string) {
	s := c.states[id]
	return s.state, s.tip
}

// hoverState tells OnNodeTip when the pointer enters or leaves a node
// that has a tooltip.
func (c *FlowCanvas) hoverState(p fyne.Position) {
	id := ""
	if len(c.states) > 0 {
		if n := c.nodeAt(c.ToDoc(p)); n != nil && c.states[n.ID].tip != "" {
			id = n.ID
		}
	}
	if id == c.hoverTip {
		return
	}
	c.hoverTip = id
	c.Refresh()
	if c.OnNodeTip != nil {
		tip := ""
		if id != "" {
			tip = c.states[id].tip
		}
		c.OnNodeTip(id, tip, p)
	}
}

// tipView draws the tooltip of the node under the pointer.
type tipView struct {
	bg    *canvas.Rectangle
	lines []*canvas.Text
}

const (
	tipLineChars = 70
	tipMaxLines  = 6
)

// wrapTip cuts a tooltip into at most tipMaxLines lines of about
// tipLineChars characters, at spaces where it can.
func wrapTip(s string) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		r := []rune(para)
		for len(r) > tipLineChars {
			cut := tipLineChars
			for i := tipLineChars; i > tipLineChars/2; i-- {
				if r[i] == ' ' {
					cut = i
					break
				}
			}
			out = append(out, strings.TrimSpace(string(r[:cut])))
			r = r[cut:]
		}
		out = append(out, strings.TrimSpace(string(r)))
	}
	if len(out) > tipMaxLines {
		out = append(out[:tipMaxLines-1], out[tipMaxLines-1]+" …")
	}
	return out
}

// tipObjects returns the tooltip's objects, drawn over everything else,
// or none when the pointer is on no node with a tooltip.
func (c *FlowCanvas) tipObjects(size fyne.Size) []fyne.CanvasObject {
	st, ok := c.states[c.hoverTip]
	if c.hoverTip == "" || !ok || st.tip == "" {
		return nil
	}
	if c.stateTip == nil {
		c.stateTip = &tipView{bg: canvas.NewRectangle(nil)}
	}
	lines := wrapTip(st.tip)
	for len(c.stateTip.lines) < len(lines) {
		c.stateTip.lines = append(c.stateTip.lines, canvas.NewText("", nil))
	}
	th := c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, v)
	ts := th.Size(theme.SizeNameText)
	pad := th.Size(theme.SizeNameInnerPadding)
	w, lh := float32(0), float32(0)
	for _, l := range lines {
		m := fyne.MeasureText(l, ts, fyne.TextStyle{})
		w, lh = max(w, m.Width), max(lh, m.Height)
	}
	bw, bh := w+2*pad, lh*float32(len(lines))+2*pad
	pos := c.hover.Add(fyne.NewPos(14, 18))
	if pos.X+bw > size.Width {
		pos.X = max(0, size.Width-bw)
	}
	if pos.Y+bh > size.Height {
		pos.Y = max(0, c.hover.Y-bh-8)
	}
	setFill(c.stateTip.bg, th.Color(theme.ColorNameOverlayBackground, v), th.Color(theme.ColorNameError, v), 1.5)
	c.stateTip.bg.CornerRadius = 4
	c.stateTip.bg.Move(pos)
	c.stateTip.bg.Resize(fyne.NewSize(bw, bh))
	objs := []fyne.CanvasObject{c.stateTip.bg}
	for i, l := range lines {
		t := c.stateTip.lines[i]
		setText(t, l, ts, fg, false)
		t.Move(fyne.NewPos(pos.X+pad, pos.Y+pad+float32(i)*lh))
		objs = append(objs, t)
	}
	return objs
}

// TipText returns the tooltip shown now ("" for none).
func (c *FlowCanvas) TipText() string {
	if c.hoverTip == "" {
		return ""
	}
	return c.states[c.hoverTip].tip
}

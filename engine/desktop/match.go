package desktop

import (
	"image"
	"image/draw"
	"math"
	"sort"
)

// Match is where a template image was found.
type Match struct {
	Rect  image.Rectangle // in the searched image's coordinates
	Score float64         // mean absolute colour difference, 0 (exact) to 1
}

// Center is the middle of the match.
func (m Match) Center() image.Point {
	return image.Pt((m.Rect.Min.X+m.Rect.Max.X)/2, (m.Rect.Min.Y+m.Rect.Max.Y)/2)
}

// toRGBA returns img as *image.RGBA with bounds at 0,0 (copying when needed).
func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Bounds().Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

// FindImage looks for tmpl in img and returns the best position when its
// score is at most tolerance (0 = pixel-exact, 0.1 = colours may differ by
// 10% on average). Template pixels with alpha below 128 are ignored.
//
// The search is coarse to fine: both images are box-averaged by a factor
// of up to 4, the coarse grey images are compared everywhere (sum of
// absolute differences with early exit), and the best coarse candidates are
// refined at full resolution in colour. Small templates are searched at full
// resolution directly.
func FindImage(img, tmpl image.Image, tolerance float64) (Match, bool) {
	s, t := toRGBA(img), toRGBA(tmpl)
	sw, sh := s.Rect.Dx(), s.Rect.Dy()
	tw, th := t.Rect.Dx(), t.Rect.Dy()
	if tw == 0 || th == 0 || tw > sw || th > sh {
		return Match{}, false
	}
	mask, opaque := alphaMask(t)
	if opaque == 0 {
		return Match{}, false
	}
	limit := int64(math.Floor(tolerance*float64(opaque)*3*255)) + 1 // exclusive bound for a hit
	f := min(4, min(tw, th)/6)
	var cands []image.Point
	if f >= 2 {
		cands = coarseCandidates(s, t, mask, f, 32)
	} else {
		f = 0
		cands = []image.Point{{}}
	}
	best := Match{Score: math.Inf(1)}
	bestSAD := int64(math.MaxInt64)
	bound := limit
	for _, c := range cands {
		x0, y0, x1, y1 := c.X-f, c.Y-f, c.X+f, c.Y+f
		if f == 0 {
			x0, y0, x1, y1 = 0, 0, sw-tw, sh-th
		}
		x0, y0 = max(x0, 0), max(y0, 0)
		x1, y1 = min(x1, sw-tw), min(y1, sh-th)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				d := sadRGB(s, t, mask, x, y, min(bound, bestSAD))
				if d < bestSAD {
					bestSAD = d
					best.Rect = image.Rect(x, y, x+tw, y+th)
					if d == 0 {
						best.Score = 0
						return best, true
					}
				}
			}
		}
	}
	if bestSAD >= limit {
		return Match{}, false
	}
	best.Score = float64(bestSAD) / (float64(opaque) * 3 * 255)
	return best, true
}

// alphaMask returns per-pixel "counts" flags (nil when all are opaque) and
// the number of counted pixels.
func alphaMask(t *image.RGBA) ([]bool, int) {
	w, h := t.Rect.Dx(), t.Rect.Dy()
	var mask []bool
	n := 0
	for y := 0; y < h; y++ {
		row := t.Pix[y*t.Stride:]
		for x := 0; x < w; x++ {
			if row[x*4+3] >= 128 {
				n++
			} else if mask == nil {
				mask = make([]bool, w*h)
				for i := 0; i < y*w+x; i++ {
					mask[i] = true
				}
			}
			if mask != nil {
				mask[y*w+x] = row[x*4+3] >= 128
			}
		}
	}
	return mask, n
}

// sadRGB sums absolute colour differences of t placed at (ox, oy) in s; it
// gives up (returning at least bound) once the sum reaches bound.
func sadRGB(s, t *image.RGBA, mask []bool, ox, oy int, bound int64) int64 {
	tw, th := t.Rect.Dx(), t.Rect.Dy()
	var sum int64
	for y := 0; y < th; y++ {
		sr := s.Pix[(oy+y)*s.Stride+ox*4:]
		tr := t.Pix[y*t.Stride:]
		var row int64
		for x := 0; x < tw; x++ {
			if mask != nil && !mask[y*tw+x] {
				continue
			}
			i := x * 4
			row += int64(absDiff(sr[i], tr[i])) + int64(absDiff(sr[i+1], tr[i+1])) + int64(absDiff(sr[i+2], tr[i+2]))
		}
		sum += row
		if sum >= bound {
			return sum
		}
	}
	return sum
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// grey is a box-averaged grey image.
type grey struct {
	w, h int
	pix  []int32 // grey level 0..255
	ok   []bool  // block counts (template only; nil = all)
}

func downsample(img *image.RGBA, mask []bool, f int) grey {
	w, h := img.Rect.Dx()/f, img.Rect.Dy()/f
	g := grey{w: w, h: h, pix: make([]int32, w*h)}
	if mask != nil {
		g.ok = make([]bool, w*h)
	}
	iw := img.Rect.Dx()
	for by := 0; by < h; by++ {
		for bx := 0; bx < w; bx++ {
			var sum int32
			full := true
			for y := by * f; y < by*f+f; y++ {
				row := img.Pix[y*img.Stride:]
				for x := bx * f; x < bx*f+f; x++ {
					i := x * 4
					sum += int32(row[i]) + int32(row[i+1]) + int32(row[i+2])
					if mask != nil && !mask[y*iw+x] {
						full = false
					}
				}
			}
			g.pix[by*w+bx] = sum / int32(3*f*f)
			if mask != nil {
				g.ok[by*w+bx] = full
			}
		}
	}
	return g
}

// coarseCandidates returns full-resolution positions of the k best coarse
// matches.
func coarseCandidates(s, t *image.RGBA, mask []bool, f, k int) []image.Point {
	gs := downsample(s, nil, f)
	gt := downsample(t, mask, f)
	type cand struct {
		x, y int
		d    int64
	}
	var top []cand // sorted by d, at most k
	worst := int64(math.MaxInt64)
	for y := 0; y+gt.h <= gs.h; y++ {
		for x := 0; x+gt.w <= gs.w; x++ {
			var sum int64
			for ty := 0; ty < gt.h && sum < worst; ty++ {
				srow := gs.pix[(y+ty)*gs.w+x:]
				trow := gt.pix[ty*gt.w:]
				for tx := 0; tx < gt.w; tx++ {
					if gt.ok != nil && !gt.ok[ty*gt.w+tx] {
						continue
					}
					d := srow[tx] - trow[tx]
					if d < 0 {
						d = -d
					}
					sum += int64(d)
				}
			}
			if sum >= worst {
				continue
			}
			i := sort.Search(len(top), func(i int) bool { return top[i].d > sum })
			top = append(top, cand{})
			copy(top[i+1:], top[i:])
			top[i] = cand{x, y, sum}
			if len(top) > k {
				top = top[:k]
			}
			if len(top) == k {
				worst = top[k-1].d + 1
			}
		}
	}
	out := make([]image.Point, len(top))
	for i, c := range top {
		out[i] = image.Pt(c.x*f, c.y*f)
	}
	return out
}

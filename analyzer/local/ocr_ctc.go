package local

import "strings"

// ctcChar is one decoded character and the output step that produced it.
type ctcChar struct {
	r    string
	step int // the first output step of its run
	last int // and the last
	prob float32
}

// ctcDecode is PaddleOCR's CTCLabelDecode (greedy): per step the most
// likely class, repeated classes collapsed, the blank (class 0) dropped.
// Class k≥1 is dict[k-1]; the dictionary already ends with the space that
// use_space_char appends. probs is [steps × classes].
func ctcDecode(probs []float32, classes int, dict []string) []ctcChar {
	var out []ctcChar
	prev := -1
	for s := 0; s*classes < len(probs); s++ {
		row := probs[s*classes : (s+1)*classes]
		best, p := 0, row[0]
		for k, v := range row {
			if v > p {
				best, p = k, v
			}
		}
		switch {
		case best == prev && best != 0 && len(out) > 0:
			out[len(out)-1].last = s
		case best != prev && best != 0 && best-1 < len(dict):
			out = append(out, ctcChar{r: dict[best-1], step: s, last: s, prob: p})
		}
		prev = best
	}
	return out
}

// ctcText joins the characters and scores them as PaddleOCR does: the mean
// probability of the kept characters (0 when there are none).
func ctcText(cs []ctcChar) (string, float64) {
	var b strings.Builder
	var sum float64
	for _, c := range cs {
		b.WriteString(c.r)
		sum += float64(c.prob)
	}
	if len(cs) == 0 {
		return "", 0
	}
	return b.String(), sum / float64(len(cs))
}

// ctcWord is a run of non-space characters: its text, confidence (mean
// character probability) and first and last output steps.
type ctcWord struct {
	text        string
	conf        float64
	first, last int
}

// ctcWords splits decoded characters into words at spaces.
func ctcWords(cs []ctcChar) []ctcWord {
	var words []ctcWord
	start := -1
	flush := func(end int) {
		if start >= 0 {
			t, conf := ctcText(cs[start:end])
			words = append(words, ctcWord{text: t, conf: conf, first: cs[start].step, last: cs[end-1].step})
			start = -1
		}
	}
	for i, c := range cs {
		if strings.TrimSpace(c.r) == "" {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(cs))
	return words
}

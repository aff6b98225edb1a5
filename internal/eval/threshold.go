package eval

// At is the curve's point for a threshold: the precision, recall and F1
// of the detections scoring at least t. ok is false when no detection
// scores that high.
func (c Curve) At(t float64) (precision, recall, f1 float64, ok bool) {
	// Thresholds fall along the curve: the last one at or over t.
	i := -1
	for j, th := range c.Threshold {
		if th < t {
			break
		}
		i = j
	}
	if i < 0 {
		return 0, 0, 0, false
	}
	return c.Precision[i], c.Recall[i], c.F1[i], true
}

// ForPrecision is the threshold that finds the most while keeping
// precision at least p: the lowest one whose precision reaches p. ok is
// false when no threshold reaches it.
func (c Curve) ForPrecision(p float64) (threshold, precision, recall float64, ok bool) {
	for i := range c.Threshold {
		if c.Precision[i] >= p && (!ok || c.Recall[i] > recall) {
			threshold, precision, recall, ok = c.Threshold[i], c.Precision[i], c.Recall[i], true
		}
	}
	return threshold, precision, recall, ok
}

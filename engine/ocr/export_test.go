//go:build cgo && !windows

package ocr

// ResetClients closes the kept Tesseract clients, so that the next read
// starts a new one.
func ResetClients() {
	pool.Lock()
	defer pool.Unlock()
	for k, c := range pool.idle {
		c.Close()
		delete(pool.idle, k)
	}
}

package send

// FingerprintDecoded is the fingerprint of a request whose body the
// one-pass decoder bound (written from the typed request).
func FingerprintDecoded(method, path string, body []byte, decoded any) string {
	return fingerprint(method, path, body, decoded)
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// decode reads one JSON object of type T from r's body, bounded by max,
// refusing unknown fields and trailing data. The error names the field or
// the offset and says what to send.
func decode[T any](r *http.Request, w http.ResponseWriter, max int64) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return v, fmt.Errorf("send Content-Type: application/json, not %q", ct)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err, max)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, errors.New("the body holds more than one JSON value: send one object")
	}
	return v, nil
}

// decodeError turns a JSON decoding error into a message that names the
// field or the offset.
func decodeError(err error, max int64) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("the body is larger than %d bytes", max)
	case errors.Is(err, io.EOF):
		return errors.New("empty body: send a JSON object")
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return fmt.Errorf("field %q: want %s, got %s", te.Field, te.Type, te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

// queryInt reads an integer query parameter within [min, max].
func queryInt(r *http.Request, key string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("query parameter %s: want an integer from %d to %d, got %q", key, min, max, s)
	}
	return n, nil
}

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, key string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(key), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: want a positive integer, got %q", key, r.PathValue(key))
	}
	return n, nil
}

// pathDigest reads and checks the {digest} path parameter.
func pathDigest(r *http.Request) (string, error) {
	d := r.PathValue("digest")
	if !validDigest(d) {
		return "", fmt.Errorf("digest: want sha256:<64 hex digits>, got %q", d)
	}
	return d, nil
}

func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	for _, c := range hexPart {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// queryWait reads ?wait=DURATION (at most 10 minutes).
func queryWait(r *http.Request) (time.Duration, error) {
	s := r.URL.Query().Get("wait")
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > 10*time.Minute {
		return 0, fmt.Errorf("query parameter wait: want a duration up to 10m (e.g. 120s), got %q", s)
	}
	return d, nil
}

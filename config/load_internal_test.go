package config

import (
	"io"
	"reflect"
	"testing"
	"time"
)

// Every setting reaches its field from its environment variable and from its
// flag: a non-default value of the field's type, in its text form.
func TestEverySettingFromEnvAndFlag(t *testing.T) {
	for _, s := range Settings() {
		want, text := otherValue(t, s)
		t.Run(s.Env, func(t *testing.T) {
			c, err := load(nil, func(k string) string {
				if k == s.Env {
					return text
				}
				return ""
			}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(c).FieldByIndex(s.index).Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s=%q: %s = %#v, want %#v", s.Env, text, s.Key, got, want)
			}
		})
		t.Run("-"+s.Flag, func(t *testing.T) {
			c, err := load([]string{"-" + s.Flag + "=" + text}, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(c).FieldByIndex(s.index).Interface(); !reflect.DeepEqual(got, want) {
				t.Errorf("-%s=%q: %s = %#v, want %#v", s.Flag, text, s.Key, got, want)
			}
		})
	}
}

// otherValue returns a value of s's type that differs from its default,
// and its text form.
func otherValue(t *testing.T, s Setting) (any, string) {
	t.Helper()
	switch d := s.Default.(type) {
	case time.Duration:
		return d + 1500*time.Millisecond, FormatValue(d + 1500*time.Millisecond)
	case string:
		return d + "x", d + "x"
	case bool:
		return !d, FormatValue(!d)
	case int:
		return d + 3, FormatValue(d + 3)
	case int64:
		return d + 3, FormatValue(d + 3)
	case []string:
		return []string{"h1:1", "h2:2"}, "h1:1, h2:2"
	case APIKeys:
		return APIKeys{{Name: "n", Tenant: "t", Key: "secret-nnn", Scopes: []string{"admin", "publish:x"}}},
			"n@t:secret-nnn:admin,publish:x"
	}
	t.Fatalf("setting %s: no test value for %T", s.Key, s.Default)
	return nil, ""
}

package config

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable the gateway reads.
const EnvPrefix = "ZEROLOSS_"

// Setting is one configuration setting as the Config struct declares it.
type Setting struct {
	// Key is the YAML key, with dots for nested sections ("redis.url").
	Key string
	// Env is the environment variable ("ZEROLOSS_REDIS_URL").
	Env string
	// Flag is the command-line flag without its dash ("redis-url").
	Flag string
	// Help describes the setting in one line.
	Help string
	// Default is the default value (Default()'s field).
	Default any

	index []int
	typ   reflect.Type
}

// Settings lists every setting in the order Config declares them.
func Settings() []Setting {
	var out []Setting
	walk(reflect.TypeOf(Config{}), "", nil, reflect.ValueOf(Default()), &out)
	return out
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func walk(t reflect.Type, prefix string, index []int, def reflect.Value, out *[]Setting) {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(slices.Clone(index), i)
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if f.Anonymous && opts == "squash" {
			walk(f.Type, prefix, idx, def.Field(i), out)
			continue
		}
		key := prefix + name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Duration]() {
			walk(f.Type, key+".", idx, def.Field(i), out)
			continue
		}
		env := f.Tag.Get("env")
		if env == "" {
			env = upperSnake(key)
		}
		*out = append(*out, Setting{
			Key: key, Env: EnvPrefix + env, Flag: strings.ReplaceAll(strings.ToLower(env), "_", "-"),
			Help: f.Tag.Get("help"), Default: def.Field(i).Interface(), index: idx, typ: f.Type,
		})
	}
}

// upperSnake turns "redis.masterName" into "REDIS_MASTER_NAME" and
// "idempotencyTTL" into "IDEMPOTENCY_TTL".
func upperSnake(key string) string {
	var b strings.Builder
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case r == '.':
			b.WriteByte('_')
			continue
		case i > 0 && unicode.IsUpper(r) && rs[i-1] != '.':
			prevLower := unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || (unicode.IsUpper(rs[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// parse reads one setting from its text form (env and flags): durations as
// "3s", lists comma-separated, API keys as "name[@tenant]:key:scopes;…".
func (s Setting) parse(text string) (any, error) {
	if reflect.PointerTo(s.typ).Implements(textUnmarshaler) {
		v := reflect.New(s.typ)
		if err := v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			return nil, err
		}
		return v.Elem().Interface(), nil
	}
	if s.typ == reflect.TypeFor[time.Duration]() {
		return time.ParseDuration(text)
	}
	switch s.typ.Kind() {
	case reflect.String:
		return text, nil
	case reflect.Bool:
		return strconv.ParseBool(text)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, errors.Unwrap(err) // strconv's error repeats the text
		}
		return n, nil
	case reflect.Slice:
		if s.typ.Elem().Kind() == reflect.String {
			return splitList(text), nil
		}
	}
	return nil, fmt.Errorf("config: setting %s of type %s has no text form", s.Key, s.typ)
}

// FormatValue writes a setting's value as env and flags take it ("24h",
// "a,b"); the README and -help show defaults this way.
func FormatValue(v any) string {
	switch v := v.(type) {
	case time.Duration:
		s := v.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	case []string:
		return strings.Join(v, ",")
	case APIKeys:
		if len(v) == 0 {
			return ""
		}
		return fmt.Sprintf("%d keys", len(v))
	default:
		return fmt.Sprint(v)
	}
}

// Load builds the configuration from defaults, the YAML file named by
// -config or ZEROLOSS_CONFIG, the environment and args (without the program
// name), and validates it. getenv is os.Getenv in production. An empty
// variable counts as unset.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg, err := load(args, getenv, stderr)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// load is Load without Validate.
func load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	settings := Settings()
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", getenv(EnvPrefix+"CONFIG"), "YAML configuration file (env "+EnvPrefix+"CONFIG)")
	flags := map[string]any{}
	for _, s := range settings {
		usage := fmt.Sprintf("%s (env %s, default %q)", s.Help, s.Env, FormatValue(s.Default))
		set := func(text string) error {
			v, err := s.parse(text)
			flags[s.Key] = v
			return err
		}
		if s.typ.Kind() == reflect.Bool {
			fs.BoolFunc(s.Flag, usage, set)
		} else {
			fs.Func(s.Flag, usage, set)
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}

	// source names the layer that set a key last; keys left at their
	// default have none.
	source := map[string]string{}
	k := koanf.New(".")
	defaults := map[string]any{}
	for _, s := range settings {
		defaults[s.Key] = s.Default
	}
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return Config{}, fmt.Errorf("config: defaults: %w", err)
	}
	if *cfgFile != "" {
		fk := koanf.New(".")
		if err := fk.Load(file.Provider(*cfgFile), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", *cfgFile, err)
		}
		for _, key := range fk.Keys() {
			if !known(settings, key) {
				return Config{}, fmt.Errorf("config: %s: unknown setting %q", *cfgFile, key)
			}
			source[key] = "file " + *cfgFile
		}
		if err := k.Merge(fk); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", *cfgFile, err)
		}
	}
	env := map[string]any{}
	var errs []error
	for _, s := range settings {
		text := getenv(s.Env)
		if text == "" {
			continue
		}
		v, err := s.parse(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Env, err))
			continue
		}
		env[s.Key], source[s.Key] = v, "env "+s.Env
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	for _, s := range settings {
		if _, ok := flags[s.Key]; ok {
			source[s.Key] = "flag -" + s.Flag
		}
	}
	for _, layer := range []map[string]any{env, flags} {
		if err := k.Load(confmap.Provider(layer, "."), nil); err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
	}

	var cfg Config
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(), mapstructure.TextUnmarshallerHookFunc()),
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		Squash:           true,
		TagName:          "koanf",
	}}); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, resolveRedis(&cfg.Redis, source)
}

// known reports whether key is a setting or a section holding settings.
func known(settings []Setting, key string) bool {
	for _, s := range settings {
		if s.Key == key || strings.HasPrefix(s.Key, key+".") {
			return true
		}
	}
	return false
}

// resolveRedis applies the precedence of redis.url and redis.addrs: addrs
// set by the user (file, env or flag) replace the default url; a url and
// addrs both set by the user are refused, naming where each came from.
func resolveRedis(r *Redis, source map[string]string) error {
	if len(r.Addrs) == 0 || r.URL == "" {
		return nil
	}
	urlFrom, ok := source["redis.url"]
	if !ok {
		r.URL = ""
		return nil
	}
	return fmt.Errorf("config: redis: url (from %s) and addrs (from %s) are both set; set one", urlFrom, source["redis.addrs"])
}

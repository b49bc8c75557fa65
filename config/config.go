// Package config declares the gateway's configuration once, as the Config
// struct below, and loads it: defaults, then an optional YAML file, then
// ZEROLOSS_* environment variables, then command-line flags, then Validate.
//
// Each setting is one struct field. Its tags say everything else about it:
//
//	koanf  the YAML key (sections are squashed, so keys stay flat)
//	help   the one-line description used by -help, the README and the example file
//	env    the environment name after ZEROLOSS_, when it is not the key in
//	       upper snake case (nameServers is ZEROLOSS_NAMESRV)
//
// The flag name is the env name in lower kebab case (-send-timeout). The
// README's configuration table and deploy/gateway.example.yaml are generated
// from these tags (go generate ./config); a test fails when they drift.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

//go:generate go run ./internal/gendoc -readme ../README.md -example ../deploy/gateway.example.yaml

// Config is the whole process configuration. Each section validates itself;
// Validate adds the rules that span sections.
type Config struct {
	HTTP        `koanf:",squash"`
	RocketMQ    `koanf:",squash"`
	Send        `koanf:",squash"`
	Idempotency `koanf:",squash"`
	Tx          `koanf:",squash"`
	Delivery    `koanf:",squash"`
	Pull        `koanf:",squash"`
	Redis       Redis   `koanf:"redis"`
	APIKeys     APIKeys `koanf:"apiKeys" help:"accepted keys (name, key, tenant, scopes); env and flags take name[@tenant]:key:scope,scope;…"`
	Telemetry   `koanf:",squash"`
	Runtime     `koanf:",squash"`
}

// Runtime tunes the Go runtime of the process.
type Runtime struct {
	// GCPercent is the garbage collector's target (GOGC). The default, 200,
	// lets the heap grow to three times what is live between collections
	// instead of Go's twice: under load the send path allocates ~15 KB per
	// request against a live heap of a few MB, so at 100 the collector ran
	// ~12% of the gateway's CPU at 64 sends in flight (issue 13); 200
	// halves its runs. Memory stays bounded by what is live: 100
	// subscriptions' deliveries peaked at 89 MiB RSS at 100 and 126 MiB at
	// 200 (the fleet goal is 150 MB); 400 would pass it.
	GCPercent int `koanf:"gcPercent" help:"the garbage collector's target, as GOGC (the heap grows to 1 + gcPercent/100 times what is live before a collection); 0 keeps the runtime's own (the GOGC environment variable, else 100)"`
	// MemoryLimitMiB is a soft limit of the process's Go memory
	// (GOMEMLIMIT): near it the collector runs more often whatever
	// GCPercent says. Set it below a container's limit.
	MemoryLimitMiB int `koanf:"memoryLimitMiB" env:"MEMORY_LIMIT_MIB" help:"soft limit of the Go runtime's memory, as GOMEMLIMIT, in MiB (set it below a container's memory limit); 0 = none"`
}

// Validate checks the runtime settings.
func (r Runtime) Validate() error {
	var p problems
	if r.GCPercent != 0 && (r.GCPercent < 25 || r.GCPercent > 10000) {
		p.add("gcPercent: must be 0 (the runtime's) or 25 to 10000")
	}
	if r.MemoryLimitMiB < 0 {
		p.add("memoryLimitMiB: must not be negative")
	}
	return p.err()
}

// HTTP configures the HTTP server.
type HTTP struct {
	Listen            string        `koanf:"listen" help:"HTTP listen address"`
	MaxBodyBytes      int64         `koanf:"maxBodyBytes" help:"largest HTTP request body (413 beyond)"`
	ReadHeaderTimeout time.Duration `koanf:"readHeaderTimeout" help:"time to read a request's headers"`
	ReadTimeout       time.Duration `koanf:"readTimeout" help:"time to read a whole request, body included"`
	IdleTimeout       time.Duration `koanf:"idleTimeout" help:"keep-alive connections idle longer are closed"`
	HealthTimeout     time.Duration `koanf:"healthTimeout" help:"bound of each /readyz dependency check"`
	ShutdownTimeout   time.Duration `koanf:"shutdownTimeout" help:"drain in-flight requests and deliveries on SIGTERM"`
	PprofListen       string        `koanf:"pprofListen" help:"serves net/http/pprof on this address (keep it private); empty = off"`
}

// RocketMQ says how to reach the brokers.
type RocketMQ struct {
	NameServers []string `koanf:"nameServers" env:"NAMESRV" help:"RocketMQ name servers, host:port (comma-separated in env and flags)"`
	Cluster     string   `koanf:"cluster" help:"cluster where subscriptions' retry and dead-letter topics are created"`
}

// Send configures the send path.
type Send struct {
	ProducerGroup   string        `koanf:"producerGroup" help:"RocketMQ producer group of the send path"`
	SendTimeout     time.Duration `koanf:"sendTimeout" help:"one broker send attempt"`
	SendRetries     int           `koanf:"sendRetries" help:"more requests for a send after an answer proving nothing was stored (delayed and ordered sends: the RocketMQ client retries any failed attempt); every attempt carries the same message id"`
	SendCoalesce    bool          `koanf:"sendCoalesce" help:"concurrent sends to one topic share broker requests (own id, receipt, outcome each)"`
	MaxMessageBytes int           `koanf:"maxMessageBytes" help:"decoded message body or whole batch (the broker's maxMessageSize)"`
}

// Idempotency configures Idempotency-Key handling.
type Idempotency struct {
	IdempotencyTTL   time.Duration `koanf:"idempotencyTTL" help:"how long a 2xx answer is replayed for its Idempotency-Key"`
	IdempotencyLease time.Duration `koanf:"idempotencyLease" help:"a running request's hold on its key; must exceed sendTimeout×(sendRetries+1)"`
}

// Tx configures transactional messages.
type Tx struct {
	TxGroup     string        `koanf:"txGroup" help:"transactional producer group: every replica joins it, nothing else may use it"`
	TxCheckMax  int           `koanf:"txCheckMax" help:"must equal the brokers' transactionCheckMax"`
	TxRecordTTL time.Duration `koanf:"txRecordTTL" help:"transaction records in Redis (longer than the broker's check window)"`
	// TxResolveAfter is the age at which the gateway itself asks a
	// producer's check URL about an undecided transaction (before the
	// broker's first check-back); 0 leaves it to the broker's check-backs.
	TxResolveAfter time.Duration `koanf:"txResolveAfter" help:"age at which the gateway asks the check URL about an undecided transaction itself (0 = broker check-backs only)"`
	// TxCheckWindow is how long after begin the brokers have certainly
	// discarded an undecided half message; a transaction undecided then
	// becomes unknown_after_max_checks.
	TxCheckWindow time.Duration `koanf:"txCheckWindow" help:"after this long undecided, a transaction becomes unknown_after_max_checks (brokers' transactionTimeOut + transactionCheckMax × transactionCheckInterval, plus margin)"`
	// TxChecksInFlight bounds check-backs handled and check URL calls made
	// at once; above it a check-back goes unanswered (the broker asks again).
	TxChecksInFlight int `koanf:"txChecksInFlight" help:"check-backs and check URL calls in flight per replica; more are left for the broker to ask again"`
}

// Delivery configures push subscriptions.
type Delivery struct {
	AllowPrivateWebhooks bool          `koanf:"allowPrivateWebhooks" help:"let webhooks point at loopback, private and link-local addresses (off: SSRF guard)"`
	DedupWindow          time.Duration `koanf:"dedupWindow" help:"a delivered message id is not delivered again within this window"`
	DeadLetterTTL        time.Duration `koanf:"deadLetterTTL" help:"Redis keeps dead letters' errors, redrive and purge records this long"`
	SubscriptionResync   time.Duration `koanf:"subscriptionResync" help:"every replica re-reads all subscriptions this often (besides change notices)"`
	DeliveryLeaseWait    time.Duration `koanf:"deliveryLeaseWait" help:"longest wait for another replica's in-flight delivery of the same message"`
	// The delivery engine's bounds: memory follows the messages in
	// flight, not the number of subscriptions.
	DeliveryInFlight      int           `koanf:"deliveryInFlight" help:"messages popped and not yet settled, per replica, all subscriptions together (the in-flight budget)"`
	DeliveryInFlightBytes int64         `koanf:"deliveryInFlightBytes" help:"bytes of the messages in flight per replica; a pop waits while more are held"`
	DeliveryPollers       int           `koanf:"deliveryPollers" help:"goroutines that pop messages for every subscription in turn"`
	DeliveryPollTime      time.Duration `koanf:"deliveryPollTime" help:"longest long poll of a pop (shorter when another subscription is due)"`
	DeliveryIdlePoll      time.Duration `koanf:"deliveryIdlePoll" help:"longest wait between two pops of a quiet subscription (its delivery latency when subscriptions outnumber pollers)"`
	DeliveryInvisibleTime time.Duration `koanf:"deliveryInvisibleTime" help:"a popped message stays hidden from other replicas this long (renewed while its delivery lasts); a dead replica's messages come back after it"`
	RetryAfterMax         time.Duration `koanf:"retryAfterMax" help:"longest wait an endpoint's Retry-After may ask for before the next attempt"`
}

// Pull configures pull subscriptions' receives.
type Pull struct {
	// PullReceivesInFlight bounds the receives a replica holds at once;
	// each holds at most one broker long poll.
	PullReceivesInFlight int `koanf:"pullReceivesInFlight" help:"receives of pull subscriptions in flight per replica (each holds at most one broker long poll); more answer 429"`
}

// Validate checks the pull settings.
func (p Pull) Validate() error {
	if p.PullReceivesInFlight < 1 || p.PullReceivesInFlight > 10000 {
		return errors.New("pullReceivesInFlight: must be 1 to 10000")
	}
	return nil
}

// Redis says how to reach Redis: a single node by URL, or Addrs with
// MasterName for Sentinel, or several Addrs for Cluster.
type Redis struct {
	URL        string   `koanf:"url" help:"single node, redis://[user:password@]host:port/db (rediss:// for TLS)"`
	Addrs      []string `koanf:"addrs" help:"Sentinel (with masterName) or Cluster addresses; set anywhere, they replace the default url"`
	MasterName string   `koanf:"masterName" help:"Sentinel master name"`
	Username   string   `koanf:"username" help:"ACL user name (with addrs)"`
	Password   string   `koanf:"password" help:"password (with addrs)"`
	DB         int      `koanf:"db" help:"database number (with addrs and Sentinel)"`
	PoolSize   int      `koanf:"poolSize" help:"connections per node (concurrent Idempotency-Key requests and deliveries)"`
	// WaitReplicas > 0 follows every write behind an acknowledgement
	// (transaction records and decisions, Idempotency-Key records) with
	// WAIT, so a Sentinel failover cannot lose it.
	WaitReplicas int           `koanf:"waitReplicas" help:"replicas that must confirm a transaction decision or Idempotency-Key record before it is acknowledged (WAIT); 0 = none"`
	WaitTimeout  time.Duration `koanf:"waitTimeout" help:"longest WAIT for waitReplicas; past it the request answers 503 (keep it under 3s, the read timeout)"`
}

// Telemetry configures logs and traces.
type Telemetry struct {
	OTLPEndpoint string `koanf:"otlpEndpoint" help:"export traces over OTLP/HTTP to host:port or URL; empty = off"`
	LogLevel     string `koanf:"logLevel" help:"debug, info, warn or error"`
}

// APIKey is one accepted bearer key.
type APIKey struct {
	// Name identifies the key in logs and scopes idempotency keys.
	Name string `koanf:"name" yaml:"name"`
	// Key is the secret the client sends as "Authorization: Bearer <key>".
	Key string `koanf:"key" yaml:"key"`
	// Tenant owns the resources the key creates; defaults to Name.
	Tenant string `koanf:"tenant" yaml:"tenant,omitempty"`
	// Scopes grant actions: "admin", "publish:<topic glob>" (send) or
	// "transact:<topic glob>" (transactions and their producers) or
	// "subscribe:<topic glob>" (push subscriptions).
	Scopes []string `koanf:"scopes" yaml:"scopes,flow"`
}

// APIKeys are the accepted API keys. As text (env and flags) they read
// "name[@tenant]:key:scope,scope;…".
type APIKeys []APIKey

// UnmarshalText parses "name[@tenant]:key:scope,scope;…".
func (k *APIKeys) UnmarshalText(b []byte) error {
	keys, err := ParseAPIKeys(string(b))
	if err != nil {
		return err
	}
	*k = keys
	return nil
}

// Default returns the defaults.
func Default() Config {
	return Config{
		HTTP: HTTP{
			Listen:            ":8080",
			MaxBodyBytes:      6 << 20,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			HealthTimeout:     3 * time.Second,
			ShutdownTimeout:   20 * time.Second,
		},
		RocketMQ: RocketMQ{
			NameServers: []string{"127.0.0.1:9876"},
			Cluster:     "DefaultCluster",
		},
		Send: Send{
			ProducerGroup:   "zeroloss-gateway",
			SendTimeout:     3 * time.Second,
			SendRetries:     2,
			SendCoalesce:    true,
			MaxMessageBytes: 4 << 20,
		},
		Idempotency: Idempotency{IdempotencyTTL: 24 * time.Hour, IdempotencyLease: 30 * time.Second},
		Tx: Tx{TxGroup: "zeroloss-tx", TxCheckMax: 15, TxRecordTTL: 7 * 24 * time.Hour,
			TxResolveAfter: 3 * time.Second, TxCheckWindow: 10 * time.Minute, TxChecksInFlight: 64},
		Delivery: Delivery{
			DedupWindow:           24 * time.Hour,
			DeadLetterTTL:         14 * 24 * time.Hour,
			SubscriptionResync:    5 * time.Second,
			DeliveryLeaseWait:     time.Minute,
			DeliveryInFlight:      1024,
			DeliveryInFlightBytes: 64 << 20,
			DeliveryPollers:       8,
			DeliveryPollTime:      10 * time.Second,
			DeliveryIdlePoll:      time.Second,
			DeliveryInvisibleTime: 30 * time.Second,
			RetryAfterMax:         time.Hour,
		},
		Pull:      Pull{PullReceivesInFlight: 64},
		Redis:     Redis{URL: "redis://127.0.0.1:6379/0", PoolSize: 128, WaitTimeout: time.Second},
		Telemetry: Telemetry{LogLevel: "info"},
		Runtime:   Runtime{GCPercent: 200},
	}
}

// Validate reports every invalid setting at once: each section's, then the
// rules that span sections.
func (c Config) Validate() error {
	errs := []error{c.HTTP.Validate(), c.RocketMQ.Validate(), c.Send.Validate(), c.Idempotency.Validate(),
		c.Tx.Validate(), c.Delivery.Validate(), c.Pull.Validate(), c.Redis.Validate(), c.APIKeys.Validate(), c.Telemetry.Validate(), c.Runtime.Validate()}
	if c.TxGroup != "" && c.TxGroup == c.ProducerGroup {
		errs = append(errs, errors.New("txGroup: must differ from producerGroup"))
	}
	if min := c.SendTimeout * time.Duration(c.SendRetries+1); c.IdempotencyLease <= min {
		errs = append(errs, fmt.Errorf("idempotencyLease: must exceed sendTimeout×(sendRetries+1) = %s", min))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: invalid:\n%w", err)
	}
	return nil
}

// problems collects a section's invalid settings.
type problems []error

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Errorf(format, a...)) }
func (p problems) err() error                   { return errors.Join(p...) }

// Validate checks the HTTP server settings.
func (h HTTP) Validate() error {
	var p problems
	if _, _, err := net.SplitHostPort(h.Listen); err != nil {
		p.add("listen %q: %v", h.Listen, err)
	}
	if h.MaxBodyBytes < 1024 {
		p.add("maxBodyBytes: must be at least 1024")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"readHeaderTimeout", h.ReadHeaderTimeout}, {"readTimeout", h.ReadTimeout}, {"idleTimeout", h.IdleTimeout},
		{"healthTimeout", h.HealthTimeout}, {"shutdownTimeout", h.ShutdownTimeout}} {
		if d.v <= 0 {
			p.add("%s: must be positive", d.name)
		}
	}
	if h.PprofListen != "" {
		if _, _, err := net.SplitHostPort(h.PprofListen); err != nil {
			p.add("pprofListen %q: %v", h.PprofListen, err)
		}
	}
	return p.err()
}

// Validate checks the broker addresses and tables.
func (r RocketMQ) Validate() error {
	var p problems
	if len(r.NameServers) == 0 {
		p.add("nameServers: at least one name server is required")
	}
	for _, ns := range r.NameServers {
		if _, _, err := net.SplitHostPort(ns); err != nil {
			p.add("nameServers %q: want host:port", ns)
		}
	}
	if r.Cluster == "" {
		p.add("cluster: must not be empty")
	}
	return p.err()
}

// Validate checks the send path settings.
func (s Send) Validate() error {
	var p problems
	if s.ProducerGroup == "" {
		p.add("producerGroup: must not be empty")
	}
	if s.SendTimeout <= 0 {
		p.add("sendTimeout: must be positive")
	}
	if s.SendRetries < 0 || s.SendRetries > 10 {
		p.add("sendRetries: must be 0 to 10")
	}
	if s.MaxMessageBytes < 1 || s.MaxMessageBytes > 4<<20 {
		p.add("maxMessageBytes: must be 1 to %d (the broker's limit)", 4<<20)
	}
	return p.err()
}

// Validate checks the Idempotency-Key settings.
func (i Idempotency) Validate() error {
	var p problems
	if i.IdempotencyTTL < time.Minute {
		p.add("idempotencyTTL: must be at least 1m")
	}
	if i.IdempotencyLease <= 0 {
		p.add("idempotencyLease: must be positive")
	}
	return p.err()
}

// Validate checks the transaction settings.
func (t Tx) Validate() error {
	var p problems
	if t.TxGroup == "" {
		p.add("txGroup: must be set and differ from producerGroup")
	}
	if t.TxCheckMax < 1 {
		p.add("txCheckMax: must be at least 1 (the brokers' transactionCheckMax)")
	}
	if t.TxRecordTTL < time.Hour {
		p.add("txRecordTTL: must be at least 1h")
	}
	if t.TxResolveAfter < 0 {
		p.add("txResolveAfter: must not be negative")
	}
	if t.TxCheckWindow < 10*time.Second || t.TxCheckWindow >= t.TxRecordTTL {
		p.add("txCheckWindow: must be at least 10s and below txRecordTTL")
	}
	if t.TxChecksInFlight < 1 {
		p.add("txChecksInFlight: must be at least 1")
	}
	return p.err()
}

// Validate checks the push subscription settings.
func (d Delivery) Validate() error {
	var p problems
	if d.DedupWindow < time.Second {
		p.add("dedupWindow: must be at least 1s")
	}
	if d.DeadLetterTTL < time.Hour {
		p.add("deadLetterTTL: must be at least 1h")
	}
	if d.SubscriptionResync < 100*time.Millisecond {
		p.add("subscriptionResync: must be at least 100ms")
	}
	if d.DeliveryLeaseWait <= 0 {
		p.add("deliveryLeaseWait: must be positive")
	}
	if d.DeliveryInFlight < 1 {
		p.add("deliveryInFlight: must be at least 1")
	}
	if d.DeliveryInFlightBytes < 1<<20 {
		p.add("deliveryInFlightBytes: must be at least 1 MiB")
	}
	if d.DeliveryPollers < 1 || d.DeliveryPollers > 1024 {
		p.add("deliveryPollers: must be 1 to 1024")
	}
	if d.DeliveryPollTime < 0 || d.DeliveryPollTime > time.Minute {
		p.add("deliveryPollTime: must be 0 to 1m")
	}
	if d.DeliveryIdlePoll < 10*time.Millisecond || d.DeliveryIdlePoll > time.Minute {
		p.add("deliveryIdlePoll: must be 10ms to 1m")
	}
	if d.DeliveryInvisibleTime < 2*time.Second || d.DeliveryInvisibleTime > 12*time.Hour {
		p.add("deliveryInvisibleTime: must be 2s to 12h")
	}
	if d.RetryAfterMax < time.Second || d.RetryAfterMax > 24*time.Hour {
		p.add("retryAfterMax: must be 1s to 24h")
	}
	return p.err()
}

// Validate checks how Redis is reached.
func (r Redis) Validate() error {
	var p problems
	switch {
	case r.URL != "" && len(r.Addrs) > 0:
		p.add("redis: set url or addrs, not both")
	case r.URL == "" && len(r.Addrs) == 0:
		p.add("redis: url or addrs is required")
	case r.URL != "":
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			p.add("redis: url %q: want redis://host:port/db", redactURL(r.URL))
		}
	}
	if r.PoolSize < 1 {
		p.add("redis: poolSize must be at least 1")
	}
	if r.WaitReplicas < 0 {
		p.add("redis: waitReplicas must not be negative")
	}
	if r.WaitReplicas > 0 && (r.WaitTimeout <= 0 || r.WaitTimeout >= 3*time.Second) {
		p.add("redis: waitTimeout must be positive and under 3s (the client's read timeout) with waitReplicas")
	}
	return p.err()
}

// Validate checks the keys: at least one, unique names and secrets, valid
// scopes. Errors never include a secret.
func (keys APIKeys) Validate() error {
	var p problems
	if len(keys) == 0 {
		p.add("apiKeys: at least one API key is required")
	}
	names := map[string]bool{}
	secrets := map[string]bool{}
	for i, k := range keys {
		switch {
		case k.Name == "":
			p.add("apiKeys[%d]: name is required", i)
		case names[k.Name]:
			p.add("apiKeys[%d]: duplicate name %q", i, k.Name)
		}
		names[k.Name] = true
		if len(k.Key) < 8 {
			p.add("apiKeys[%d] (%s): key must be at least 8 characters", i, k.Name)
		}
		if secrets[k.Key] {
			p.add("apiKeys[%d] (%s): key is used twice", i, k.Name)
		}
		secrets[k.Key] = true
		if len(k.Scopes) == 0 {
			p.add("apiKeys[%d] (%s): at least one scope is required", i, k.Name)
		}
		for _, s := range k.Scopes {
			if err := ValidateScope(s); err != nil {
				p.add("apiKeys[%d] (%s): %v", i, k.Name, err)
			}
		}
	}
	return p.err()
}

// Validate checks the log level and trace export.
func (t Telemetry) Validate() error {
	switch t.LogLevel {
	case "debug", "info", "warn", "error":
		return nil
	}
	return fmt.Errorf("logLevel %q: want debug, info, warn or error", t.LogLevel)
}

// ParseAPIKeys parses "name[@tenant]:key:scope,scope;…", for example
// "billing@acme:s3cret-key:publish:orders-*,publish:invoices".
func ParseAPIKeys(s string) ([]APIKey, error) {
	var keys []APIKey
	for _, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) < 3 {
			return nil, fmt.Errorf("entry %q: want name[@tenant]:key:scope,scope", redactEntry(entry))
		}
		name, tenant, _ := strings.Cut(parts[0], "@")
		keys = append(keys, APIKey{Name: name, Tenant: tenant, Key: parts[1], Scopes: splitList(parts[2])})
	}
	return keys, nil
}

// redactEntry keeps an API key entry's name only, so errors never print a key.
func redactEntry(entry string) string {
	name, _, _ := strings.Cut(entry, ":")
	return name + ":…"
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ValidateScope checks one scope string: "admin", or "publish:<glob>",
// "transact:<glob>" or "subscribe:<glob>".
func ValidateScope(s string) error {
	if s == "admin" {
		return nil
	}
	action, pattern, ok := strings.Cut(s, ":")
	if !ok || pattern == "" {
		return fmt.Errorf("scope %q: want admin, or publish:, transact: or subscribe: followed by a topic glob", s)
	}
	switch action {
	case "publish", "transact", "subscribe":
	default:
		return fmt.Errorf("scope %q: unknown action %q", s, action)
	}
	return nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable>"
	}
	return u.Redacted()
}

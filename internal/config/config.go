// Package config loads roster's YAML configuration: ${ENV} expansion, *_file
// secrets, unknown keys rejected with their path, defaults, and validation that
// reports every problem with the key it concerns.
package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/ldapsync"
	"github.com/rosterhq/roster/sso"
	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	Listen    string   `yaml:"listen"`
	PublicURL string   `yaml:"public_url"`
	Database  Database `yaml:"database"`
	Cluster   Cluster  `yaml:"cluster"`
	SMTP      SMTP     `yaml:"smtp"`
	Invites   Invites  `yaml:"invites"`
	Security  Security `yaml:"security"`
	Dormancy  Dormancy `yaml:"dormancy"`
	LDAP      LDAP     `yaml:"ldap"`
	Log       Log      `yaml:"log"`
	HTTP      HTTP     `yaml:"http"`
	TLS       TLS      `yaml:"tls"`
	Metrics   Metrics  `yaml:"metrics"`
	OIDC      OIDC     `yaml:"oidc"`
	// SSO lists the organisations' own OpenID providers (at most one per
	// organisation): sign-in through them, and password sign-in turned off.
	// Each entry's schema, defaults and validation are the SSO door's (sso.Config).
	SSO []sso.Config `yaml:"sso"`
	// TrustedProxies are addresses or CIDR ranges of reverse proxies whose
	// X-Forwarded-For / X-Forwarded-Proto headers are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// OIDC configures the OpenID Provider.
type OIDC struct {
	// KeyEncryptionKeyFile holds 32 random bytes, raw or as 64 hex digits,
	// that encrypt the signing keys in the database (AES-256-GCM). Empty:
	// the keys are stored unencrypted.
	KeyEncryptionKeyFile string `yaml:"key_encryption_key_file"`
	// KeyEncryptionKey is the file's key, read by Load.
	KeyEncryptionKey []byte `yaml:"-"`
}

// parseKEK reads a key encryption key file's content: 32 raw bytes, or 64
// hex digits (an ending newline allowed).
func parseKEK(b []byte) ([]byte, error) {
	if t := bytes.TrimRight(b, "\r\n"); len(t) == 64 {
		if k, err := hex.DecodeString(string(t)); err == nil {
			return k, nil
		}
	}
	t := bytes.TrimRight(b, "\r\n")
	if isHex(t) {
		// A short hex key (openssl rand -hex 16) is not taken as raw bytes.
		return nil, fmt.Errorf("holds %d hex digits: it must hold 32 random bytes, raw or as 64 hex digits (openssl rand -hex 32)", len(t))
	}
	if len(b) == 32 {
		return bytes.Clone(b), nil
	}
	return nil, fmt.Errorf("holds %d bytes: it must hold 32 random bytes, raw or as 64 hex digits (openssl rand -hex 32)", len(b))
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return len(b) > 0
}

// Metrics places the Prometheus endpoint.
type Metrics struct {
	// Listen, when set (host:port), serves /metrics on its own plain-HTTP
	// listener there and no longer on the main one, so that it can be kept
	// off the public port. Empty: /metrics is on the main listener.
	Listen string `yaml:"listen"`
}

// TLS serves HTTPS directly from a PEM certificate chain and key (reloaded on SIGHUP).
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether HTTPS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// TrustedProxyPrefixes parses trusted_proxies (validated by Load).
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, ok := parsePrefix(s); ok {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// Database selects the store.
type Database struct {
	Driver string `yaml:"driver"` // sqlite (default) | postgres
	DSN    string `yaml:"dsn"`    // sqlite: file path; postgres: URL or key=value connection string
	// MaxReaders bounds concurrent read transactions (sqlite).
	MaxReaders int `yaml:"max_readers"`
	// BusyTimeout is how long a write waits for another process's write
	// lock (sqlite: the CLI, a backup) before it is refused as busy.
	BusyTimeout time.Duration `yaml:"busy_timeout"`
	// The PostgreSQL connection pool of each process.
	MaxOpenConns    int           `yaml:"max_open_conns"`
	MaxIdleConns    int           `yaml:"max_idle_conns"`
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"`
	ConnMaxIdleTime time.Duration `yaml:"conn_max_idle_time"`
}

// Cluster tunes how replicas share singleton work (background jobs, each
// LDAP source's schedule): one replica holds a lease per task, renews it,
// and another takes over within LeaseTTL when the holder dies.
type Cluster struct {
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// SMTP is the outgoing mail server.
type SMTP struct {
	Host         string        `yaml:"host"`
	Port         int           `yaml:"port"`
	TLS          string        `yaml:"tls"` // none | starttls | tls
	Username     string        `yaml:"username"`
	Password     string        `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
	From         string        `yaml:"from"`
	Timeout      time.Duration `yaml:"timeout"`
	CAFile       string        `yaml:"ca_file"`       // PEM CA bundle for a private CA; system roots when empty
	MaxAttempts  int           `yaml:"max_attempts"`  // delivery attempts before mail_error
	RetryInitial time.Duration `yaml:"retry_initial"` // first retry delay, doubled each attempt
	RetryMax     time.Duration `yaml:"retry_max"`     // longest retry delay
}

// Invites tunes invitations.
type Invites struct {
	ValidFor time.Duration `yaml:"valid_for"`
}

// Security tunes authentication rules.
type Security struct {
	LockoutThreshold int           `yaml:"lockout_threshold"`
	SessionTTL       time.Duration `yaml:"session_ttl"`
	// LoginRatePerMinute bounds login attempts per source address.
	LoginRatePerMinute int `yaml:"login_rate_per_minute"`
	// OwnerLockExpiry is how long the lockout keeps an owner locked before
	// the lock lifts by itself (other users stay locked until unlocked).
	OwnerLockExpiry time.Duration `yaml:"owner_lock_expiry"`
	// MaxConcurrentHashes bounds password hashes (argon2id, 19 MiB each)
	// running at once; 0 is GOMAXPROCS, at most 4. HashQueueWait is how long a
	// login waits for a slot before it is answered 503 with Retry-After.
	MaxConcurrentHashes int           `yaml:"max_concurrent_hashes"`
	HashQueueWait       time.Duration `yaml:"hash_queue_wait"`
}

// Dormancy tunes the inactivity rule.
type Dormancy struct {
	After time.Duration `yaml:"after"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// HTTP tunes the listener.
type HTTP struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
}

// LDAP lists the directories roster syncs from. Each source's schema,
// defaults and validation are the LDAP door's (ldapsync.Config).
type LDAP struct {
	Sources []ldapsync.Config `yaml:"sources"`
}

// Default is the embedded default: SQLite under ./data, loopback port 8080.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	if len(c.TrustedProxies) == 0 {
		c.TrustedProxies = nil // [] and absent are the same
	}
	def(&c.Listen, "127.0.0.1:8080")
	def(&c.PublicURL, "http://"+c.Listen)
	def(&c.Database.Driver, "sqlite")
	if c.Database.Driver == "sqlite" {
		def(&c.Database.DSN, "./data/roster.db")
	}
	defDur(&c.Database.BusyTimeout, 10*time.Second)
	if c.Database.MaxReaders == 0 {
		c.Database.MaxReaders = 4
	}
	if c.Database.MaxOpenConns == 0 {
		c.Database.MaxOpenConns = 10
	}
	if c.Database.MaxIdleConns == 0 {
		c.Database.MaxIdleConns = 5
	}
	defDur(&c.Database.ConnMaxLifetime, 30*time.Minute)
	defDur(&c.Database.ConnMaxIdleTime, 5*time.Minute)
	defDur(&c.Cluster.LeaseTTL, 30*time.Second)
	def(&c.SMTP.TLS, "starttls")
	if c.SMTP.Port == 0 {
		c.SMTP.Port = 587
	}
	defDur(&c.SMTP.Timeout, 30*time.Second)
	c.SMTP.defaults()
	defDur(&c.Invites.ValidFor, 7*24*time.Hour)
	if c.Security.LockoutThreshold == 0 {
		c.Security.LockoutThreshold = 10
	}
	defDur(&c.Security.SessionTTL, 12*time.Hour)
	if c.Security.LoginRatePerMinute == 0 {
		c.Security.LoginRatePerMinute = 30
	}
	defDur(&c.Security.OwnerLockExpiry, 15*time.Minute)
	defDur(&c.Security.HashQueueWait, 2*time.Second)
	defDur(&c.Dormancy.After, 90*24*time.Hour)
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	defDur(&c.HTTP.ReadHeaderTimeout, 10*time.Second)
	defDur(&c.HTTP.ReadTimeout, 60*time.Second)
	defDur(&c.HTTP.WriteTimeout, 60*time.Second)
	defDur(&c.HTTP.IdleTimeout, 120*time.Second)
	defDur(&c.HTTP.ShutdownTimeout, 20*time.Second)
	for i := range c.LDAP.Sources {
		c.LDAP.Sources[i].Defaults()
	}
	for i := range c.SSO {
		c.SSO[i].Defaults()
	}

}

// Problem is one thing wrong with a configuration, at a key path.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is every problem found; Load returns it as its error.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

func (ps *Problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: orRoot(path), Message: fmt.Sprintf(format, args...)})
}

// Load reads, expands and validates a config file. An empty path gives Default().
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, os.LookupEnv, os.ReadFile)
}

// Parse decodes config bytes. lookupEnv resolves ${NAME}; readFile resolves *_file keys.
func Parse(data []byte, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil // an empty file is the defaults
		}
		return nil, Problems{{Path: "(file)", Message: "not valid YAML: " + err.Error()}}
	}
	var ps Problems
	expandEnv(&root, "", lookupEnv, &ps)
	lines := map[int]string{}
	if len(root.Content) > 0 {
		checkKeys(root.Content[0], reflect.TypeOf(Config{}), "", lines, &ps)
	}
	// Every problem at once: unknown keys and values of the wrong type do
	// not hide the rest. Decoding skips unknown keys and leaves a mistyped
	// value at its zero; a key already reported is not reported again by
	// the checks that follow.
	c := &Config{}
	if err := root.Decode(c); err != nil {
		ps = append(ps, typeProblems(err, lines)...)
	}
	reported := map[string]bool{}
	for _, p := range ps {
		reported[p.Path] = true
	}
	c.applyDefaults()
	var more Problems
	c.readSecrets(readFile, &more)
	c.validate(&more)
	for _, p := range more {
		if !reported[p.Path] {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

var yamlLineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// typeProblems turns yaml's "line N: cannot unmarshal …" errors into problems
// at the key path found on that line.
func typeProblems(err error, lines map[int]string) Problems {
	var ps Problems
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Problems{{Path: "(file)", Message: err.Error()}}
	}
	for _, e := range te.Errors {
		m := yamlLineRE.FindStringSubmatch(e)
		if m == nil {
			ps.add("(file)", "%s", e)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		path, ok := lines[n]
		if !ok {
			path = "(file)"
		}
		ps.add(path, "%s (line %d)", strings.ReplaceAll(m[2], "!!", ""), n)
	}
	return ps
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in every scalar value.
func expandEnv(n *yaml.Node, path string, lookup func(string) (string, bool), ps *Problems) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			expandEnv(c, path, lookup, ps)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			expandEnv(n.Content[i+1], join(path, n.Content[i].Value), lookup, ps)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandEnv(c, fmt.Sprintf("%s[%d]", path, i), lookup, ps)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = envRE.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := envRE.FindStringSubmatch(m)[1]
			v, ok := lookup(name)
			if !ok {
				ps.add(path, "environment variable %s is not set", name)
			}
			return v
		})
		// An expanded value is a plain string, whatever it looks like.
		if n.Tag == "" || n.Tag == "!!str" {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkKeys rejects keys that no field of t declares, naming their path and line.
// lines records the key path of each value's line, for type errors.
func checkKeys(n *yaml.Node, t reflect.Type, path string, lines map[int]string, ps *Problems) {
	if path != "" {
		lines[n.Line] = path // the deepest key on a line wins
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
				ps.add(orRoot(path), "expected a mapping (line %d)", n.Line)
			}
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p := join(path, k)
			if k == "" {
				p = join(path, `""`) // an empty key still gets a visible path
			}
			if seen[k] {
				ps.add(p, "appears twice (line %d)", n.Content[i].Line)
			}
			seen[k] = true
			ft, ok := fields[k]
			if !ok {
				ps.add(p, "unknown key (line %d)", n.Content[i].Line)
				continue
			}
			checkKeys(n.Content[i+1], ft, p, lines, ps)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines, ps)
			}
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

func (c *Config) readSecrets(readFile func(string) ([]byte, error), ps *Problems) {
	read := func(path string, dst *string, file string, plainKey string) {
		if file == "" {
			return
		}
		if *dst != "" {
			ps.add(path, "set either %s or %s, not both", plainKey, path[strings.LastIndexByte(path, '.')+1:])
			return
		}
		b, err := readFile(file)
		if err != nil {
			ps.add(path, "cannot read %s: %v", file, errors.Unwrap(err))
			return
		}
		*dst = strings.TrimRight(string(b), "\r\n")
	}
	read("smtp.password_file", &c.SMTP.Password, c.SMTP.PasswordFile, "password")
	if f := c.OIDC.KeyEncryptionKeyFile; f != "" {
		if b, err := readFile(f); err != nil {
			ps.add("oidc.key_encryption_key_file", "cannot read %s: %v", f, errors.Unwrap(err))
		} else if k, err := parseKEK(b); err != nil {
			ps.add("oidc.key_encryption_key_file", "%s %v", f, err)
		} else {
			c.OIDC.KeyEncryptionKey = k
		}
	}
	for i := range c.LDAP.Sources {
		s := &c.LDAP.Sources[i]
		read(fmt.Sprintf("ldap.sources[%d].bind_password_file", i), &s.BindPassword, s.BindPasswordFile, "bind_password")
	}
	for i := range c.SSO {
		p := &c.SSO[i]
		read(fmt.Sprintf("sso[%d].client_secret_file", i), &p.ClientSecret, p.ClientSecretFile, "client_secret")
	}
}

var (
	validLogLevels = []string{"debug", "info", "warn", "error"}
)

func oneOf(ps *Problems, path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	ps.add(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

func (c *Config) validate(ps *Problems) {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		ps.add("listen", "%q is not host:port", c.Listen)
	}
	if c.Metrics.Listen != "" {
		_, port, err := net.SplitHostPort(c.Metrics.Listen)
		switch {
		case err != nil:
			ps.add("metrics.listen", "%q is not host:port", c.Metrics.Listen)
		case port != "0" && c.Metrics.Listen == c.Listen:
			ps.add("metrics.listen", "%q is the main listen address; choose another (or leave it empty for /metrics on the main port)", c.Metrics.Listen)
		}
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps.add("public_url", "%q is not an http(s) URL", c.PublicURL)
	}
	oneOf(ps, "database.driver", c.Database.Driver, "sqlite", "postgres")
	if c.Database.DSN == "" {
		ps.add("database.dsn", "is required")
	}
	if c.Database.BusyTimeout < 100*time.Millisecond || c.Database.BusyTimeout > 5*time.Minute {
		ps.add("database.busy_timeout", "%s is not between 100ms and 5m", c.Database.BusyTimeout)
	}
	if c.Database.MaxReaders < 0 {
		ps.add("database.max_readers", "must be positive")
	}
	if c.Database.MaxOpenConns < 0 {
		ps.add("database.max_open_conns", "must be positive")
	}
	if c.Database.MaxIdleConns < 0 {
		ps.add("database.max_idle_conns", "must be positive")
	} else if c.Database.MaxIdleConns > c.Database.MaxOpenConns && c.Database.MaxOpenConns > 0 {
		ps.add("database.max_idle_conns", "%d is more than max_open_conns (%d)", c.Database.MaxIdleConns, c.Database.MaxOpenConns)
	}
	if c.Database.ConnMaxLifetime < 0 {
		ps.add("database.conn_max_lifetime", "must be positive")
	}
	if c.Database.ConnMaxIdleTime < 0 {
		ps.add("database.conn_max_idle_time", "must be positive")
	}
	if c.Cluster.LeaseTTL < 3*time.Second || c.Cluster.LeaseTTL > time.Hour {
		ps.add("cluster.lease_ttl", "%s is not between 3s and 1h", c.Cluster.LeaseTTL)
	}
	oneOf(ps, "smtp.tls", c.SMTP.TLS, "none", "starttls", "tls")
	if c.SMTP.Port <= 0 || c.SMTP.Port > 65535 {
		ps.add("smtp.port", "%d is not a port", c.SMTP.Port)
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		ps.add("smtp.from", "is required when smtp.host is set")
	}
	c.SMTP.validate(ps)
	if c.Invites.ValidFor < time.Hour {
		ps.add("invites.valid_for", "%s is shorter than one hour", c.Invites.ValidFor)
	}
	if c.Security.LockoutThreshold < 1 {
		ps.add("security.lockout_threshold", "must be at least 1")
	}
	if c.Security.SessionTTL < time.Minute {
		ps.add("security.session_ttl", "%s is shorter than one minute", c.Security.SessionTTL)
	}
	if c.Security.LoginRatePerMinute < 1 {
		ps.add("security.login_rate_per_minute", "must be at least 1")
	}
	if c.Security.OwnerLockExpiry < time.Minute || c.Security.OwnerLockExpiry > 7*24*time.Hour {
		ps.add("security.owner_lock_expiry", "%s is not between 1m and 168h (an owner's lock must lift by itself)", c.Security.OwnerLockExpiry)
	}
	if c.Security.MaxConcurrentHashes < 0 || c.Security.MaxConcurrentHashes > 256 {
		ps.add("security.max_concurrent_hashes", "%d is not between 0 (GOMAXPROCS, at most 4) and 256", c.Security.MaxConcurrentHashes)
	}
	if c.Security.HashQueueWait < 0 || c.Security.HashQueueWait > time.Minute {
		ps.add("security.hash_queue_wait", "%s is not between 0 and 1m", c.Security.HashQueueWait)
	}
	if c.Dormancy.After < 24*time.Hour {
		ps.add("dormancy.after", "%s is shorter than one day", c.Dormancy.After)
	}
	oneOf(ps, "log.level", c.Log.Level, validLogLevels...)
	oneOf(ps, "log.format", c.Log.Format, "text", "json")
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout}, {"http.read_timeout", c.HTTP.ReadTimeout},
		{"http.write_timeout", c.HTTP.WriteTimeout}, {"http.idle_timeout", c.HTTP.IdleTimeout}, {"http.shutdown_timeout", c.HTTP.ShutdownTimeout}} {
		if d.v < 0 {
			ps.add(d.key, "must not be negative")
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		if c.TLS.CertFile == "" {
			ps.add("tls.cert_file", "is required when tls.key_file is set")
		} else {
			ps.add("tls.key_file", "is required when tls.cert_file is set")
		}
	}
	for i, p := range c.TrustedProxies {
		if _, ok := parsePrefix(p); !ok {
			ps.add(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR range", p)
		}
	}
	names := map[string]bool{}
	for i := range c.LDAP.Sources {
		src := &c.LDAP.Sources[i]
		p := fmt.Sprintf("ldap.sources[%d]", i)
		for _, f := range src.Validate() {
			ps.add(p+"."+f.Field, "%s", f.Message)
		}
		if src.Name != "" && names[src.Name] {
			ps.add(p+".name", "%q is used by another source", src.Name)
		}
		names[src.Name] = true
	}
	orgs, idps := map[string]bool{}, map[string]bool{}
	for i := range c.SSO {
		p := &c.SSO[i]
		path := fmt.Sprintf("sso[%d]", i)
		for _, f := range p.Validate() {
			if f.Field == "client_secret" && p.ClientSecretFile != "" {
				continue // the file's problem is reported at client_secret_file
			}
			ps.add(path+"."+f.Field, "%s", f.Message)
		}
		if orgs[p.Org] {
			ps.add(path+".org", "%q already has an identity provider (one per organisation)", p.Org)
		}
		if p.Name != "" && idps[p.Name] {
			ps.add(path+".name", "%q is used by another identity provider", p.Name)
		}
		orgs[p.Org], idps[p.Name] = true, true
	}
}

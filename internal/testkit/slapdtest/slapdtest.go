// Package slapdtest runs a private OpenLDAP server for tests: 127.0.0.1, a
// free port, all state in a temp dir: a config directory (cn=config) built
// from an LDIF, the MDB backend, and the schemas the tests use. Under CI
// (CI=true) a missing slapd fails the test instead of skipping it.
package slapdtest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// TB is the part of testing.TB these helpers use; a benchmark command can
// supply its own.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(f func())
}

const (
	BaseDN    = "dc=example,dc=com"
	AdminDN   = "cn=admin,dc=example,dc=com"
	AdminPW   = "admin-secret"
	PeopleDN  = "ou=people,dc=example,dc=com"
	GroupsDN  = "ou=groups,dc=example,dc=com"
	slapdPath = "/usr/sbin/slapd"
)

// Server is one running slapd.
type Server struct {
	CAFile   string // StartTLS: the CA certificate of the server's certificate
	LDAPSURL string // StartTLS: the ldaps:// URL
	tls      bool

	t    TB
	dir  string
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	// port, tlsPort: kept across Restart.
	port, tlsPort int
	rootDSE       bool // olcRootDSE is set
}

// Pid is the slapd process's id (0 when it is not running): a benchmark
// reads the server's CPU time from it.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Require skips the test when slapd is missing, or fails it under CI.
func Require(t TB) {
	t.Helper()
	for _, bin := range []string{slapdPath, "/usr/sbin/slapadd", "/usr/sbin/slappasswd", "ldapmodify"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI (apt-get install slapd ldap-utils): %v", bin, err)
			}
			t.Skipf("%s not installed: %v", bin, err)
		}
	}
}

// adSchema gives slapd the Active Directory attributes the AD preset reads,
// so its mapping (binary objectGUID, userAccountControl, uSNChanged) is
// exercised against a real server, and the root DSE attributes of a domain
// controller (dsServiceName, highestCommittedUSN; see StartRootDSE).
const adSchema = `
dn: cn=adtest,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adtest
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.1 NAME 'objectGUID' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.2 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.3 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.4 NAME 'uSNChanged' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.5 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.6 NAME 'dsServiceName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.1.7 NAME 'highestCommittedUSN' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.99999.2.1 NAME 'adUser' AUXILIARY MAY ( objectGUID $ userAccountControl $ sAMAccountName $ uSNChanged $ userPrincipalName ) )
olcObjectClasses: ( 1.3.6.1.4.1.99999.2.2 NAME 'adGroup' AUXILIARY MAY ( objectGUID $ uSNChanged ) )
`

// Start builds a config, bulk-loads data (LDIF, may be empty) with
// slapadd and starts slapd; it stops when the test ends.
func Start(t TB, data string) *Server {
	t.Helper()
	Require(t)
	dir, err := os.MkdirTemp("", "roster-slapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	build(t, dir, strings.NewReader(data))
	s := &Server{t: t, dir: dir}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// StartTLS is Start with TLS: a fresh CA signs a server certificate for
// 127.0.0.1 and localhost; the server answers StartTLS on URL and TLS on
// LDAPSURL, and CAFile holds the CA certificate (PEM).
func StartTLS(t TB, data string) *Server {
	t.Helper()
	Require(t)
	dir, err := os.MkdirTemp("", "roster-slapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	caFile := writeCerts(t, dir)
	build(t, dir, strings.NewReader(data))
	s := &Server{t: t, dir: dir, CAFile: caFile, tls: true}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// StartRootDSE is Start with attributes added to the server's root DSE
// (olcRootDSE), given as LDIF lines ("dsServiceName: CN=…"): an Active
// Directory domain controller's dsServiceName and highestCommittedUSN, for
// instance (the test schema defines both). SetRootDSE changes them later.
func StartRootDSE(t TB, data, rootDSE string) *Server {
	t.Helper()
	Require(t)
	dir, err := os.MkdirTemp("", "roster-slapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	build(t, dir, strings.NewReader(data))
	s := &Server{t: t, dir: dir}
	s.start()
	t.Cleanup(s.Stop)
	// Set once the server runs: cn=config is loaded before the schema that
	// defines the attributes, so slapadd cannot take olcRootDSE.
	s.SetRootDSE(rootDSE)
	return s
}

// SetRootDSE replaces the root DSE's added attributes of a server started
// by StartRootDSE, while it runs (slapd reads the file again when
// olcRootDSE is written). The test schema defines them as user attributes
// (slapd takes no operational ones in cn=schema); the root DSE returns
// them when asked by name, as AD does.
func (s *Server) SetRootDSE(rootDSE string) {
	s.t.Helper()
	path := filepath.Join(s.dir, "rootdse.ldif")
	write(s.t, path, "dn:\n"+rootDSE)
	cmd := exec.Command("ldapmodify", "-x", "-H", s.URL, "-D", "cn=admin,cn=config", "-w", AdminPW)
	change := "add: olcRootDSE\n"
	if s.rootDSE {
		change = "delete: olcRootDSE\n-\n" + change
	}
	cmd.Stdin = strings.NewReader("dn: cn=config\nchangetype: modify\n" + change + "olcRootDSE: " + path + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("set the root DSE: %v\n%s", err, out)
	}
	s.rootDSE = true
}

// writeCerts makes a CA and a server certificate in dir; it returns the CA file.
func writeCerts(t TB, dir string) string {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "roster test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pemFile := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		write(t, p, string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
		return p
	}
	pemFile("server.crt", "CERTIFICATE", srvDER)
	pemFile("server.key", "PRIVATE KEY", keyDER)
	return pemFile("ca.crt", "CERTIFICATE", caDER)
}

// StartCached is Start for big directories: the loaded database is kept in
// the system temp dir under key and reused by later calls (and later test
// processes); data writes the LDIF only when the cache is cold.
func StartCached(t TB, key string, data func(w io.Writer) error) *Server {
	t.Helper()
	Require(t)
	dir := filepath.Join(os.TempDir(), "roster-slapd-cache-"+key)
	if _, err := os.Stat(filepath.Join(dir, "ready")); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(data(pw)) }()
		build(t, dir, pr)
		write(t, filepath.Join(dir, "ready"), "")
	}
	s := &Server{t: t, dir: dir}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// build writes the config and bulk-loads data into dir.
func build(t TB, dir string, data io.Reader) {
	t.Helper()
	for _, d := range []string{"slapd.d", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := exec.Command("/usr/sbin/slappasswd", "-s", AdminPW).Output()
	if err != nil {
		t.Fatalf("slappasswd: %v", err)
	}
	cfg := slapdConfig
	if _, err := os.Stat(filepath.Join(dir, "server.crt")); err == nil {
		cfg = strings.Replace(cfg, "olcPidFile: $D/slapd.pid\n", "olcPidFile: $D/slapd.pid\nolcTLSCACertificateFile: $D/ca.crt\nolcTLSCertificateFile: $D/server.crt\nolcTLSCertificateKeyFile: $D/server.key\n", 1)
	}
	r := strings.NewReplacer("$D", dir, "HASH", strings.TrimSpace(string(hash)))
	write(t, filepath.Join(dir, "config.ldif"), r.Replace(cfg+adSchema+slapdDB))
	run(t, nil, "/usr/sbin/slapadd", "-n", "0", "-F", filepath.Join(dir, "slapd.d"), "-l", filepath.Join(dir, "config.ldif"))
	run(t, io.MultiReader(strings.NewReader(baseLDIF), data), "/usr/sbin/slapadd", "-q", "-F", filepath.Join(dir, "slapd.d"), "-b", BaseDN)
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	if s.port == 0 {
		s.port = FreePort(t)
		if s.tls {
			s.tlsPort = FreePort(t)
		}
	}
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", s.port)
	listen := s.URL + "/"
	if s.tls {
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", s.tlsPort)
		listen += " " + s.LDAPSURL + "/"
	}
	log, err := os.Create(filepath.Join(s.dir, "slapd.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(slapdPath, "-F", filepath.Join(s.dir, "slapd.d"), "-h", listen, "-d", "none")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); log.Close(); close(s.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			b, _ := os.ReadFile(filepath.Join(s.dir, "slapd.log"))
			t.Fatalf("slapd exited:\n%s", b)
		default:
		}
		// Our instance answers with our admin password: not someone else's server on that port.
		if exec.Command("ldapwhoami", "-x", "-H", s.URL, "-D", AdminDN, "-w", AdminPW).Run() == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("slapd did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends slapd and waits for it.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Restart starts a stopped server again on the same address (a directory
// back after an outage). It stops a running one first.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Modify applies LDIF changes (changetype records) as the admin.
func (s *Server) Modify(ldif string) {
	s.t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", s.URL, "-D", AdminDN, "-w", AdminPW)
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("ldapmodify: %v\n%s\n%s", err, out, ldif)
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func write(t TB, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t TB, stdin io.Reader, name string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

const slapdConfig = `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $D/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
`

const slapdDB = `
dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: HASH

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: dc=example,dc=com
olcRootDN: cn=admin,dc=example,dc=com
olcRootPW: HASH
olcDbDirectory: $D/data
olcDbMaxSize: 8589934592
olcSizeLimit: unlimited
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn eq,sub
olcDbIndex: member,memberOf,uniqueMember,memberUid eq
olcDbIndex: entryUUID,entryCSN eq
olcDbIndex: modifyTimestamp eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by * read

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE

dn: olcOverlay={1}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {1}ppolicy
olcPPolicyDefault: cn=default,ou=policies,dc=example,dc=com
olcPPolicyUseLockout: TRUE
`

const baseLDIF = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: ou=policies,dc=example,dc=com
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,dc=example,dc=com
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE

`

// Person is one generated inetOrgPerson.
func Person(uid, given, sn string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s %s\ngivenName: %s\nsn: %s\nmail: %s@example.com\nuserPassword: pw-%s\n",
		uid, PeopleDN, uid, given, sn, given, sn, uid, uid)
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// People generates n users user0000…
func People(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(Person(fmt.Sprintf("user%04d", i), fmt.Sprintf("First%d", i), fmt.Sprintf("Last%d", i)))
	}
	return b.String()
}

// GroupOfNames is a group entry with members.
func GroupOfNames(cn string, members ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n", cn, GroupsDN, cn)
	for _, m := range members {
		fmt.Fprintf(&b, "member: %s\n", m)
	}
	b.WriteString("\n")
	return b.String()
}

// UserDN is the DN of a generated user.
func UserDN(uid string) string { return "uid=" + uid + "," + PeopleDN }

// GroupDN is the DN of a group.
func GroupDN(cn string) string { return "cn=" + cn + "," + GroupsDN }

// BenchData writes n generated users and 200 groupOfNames groups holding 2n
// member values (each user is in two groups): the benchmark directory.
func BenchData(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	members := make([][]int, 200)
	for i := range n {
		fmt.Fprintf(bw, "dn: uid=user%06d,%s\nobjectClass: inetOrgPerson\nuid: user%06d\ncn: First%d Last%d\ngivenName: First%d\nsn: Last%d\nmail: user%06d@example.com\ntelephoneNumber: +1 555 %07d\n\n",
			i, PeopleDN, i, i, i, i, i, i, i)
		members[i%200] = append(members[i%200], i)
		members[(i*7+3)%200] = append(members[(i*7+3)%200], i)
	}
	for g, ms := range members {
		fmt.Fprintf(bw, "dn: cn=group%03d,%s\nobjectClass: groupOfNames\ncn: group%03d\n", g, GroupsDN, g)
		for _, i := range ms {
			fmt.Fprintf(bw, "member: uid=user%06d,%s\n", i, PeopleDN)
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// BenchUserDN is the DN of the i-th BenchData user.
func BenchUserDN(i int) string { return fmt.Sprintf("uid=user%06d,%s", i, PeopleDN) }

// The benchmark directory of issue 19 (BenchDirectory): 100,000 users and 200
// groupOfNames groups in production use, with non-ASCII names, DNs that need
// escapes, and memberOf on the users.
const (
	BenchGroups = 200
	// benchThirdLow users in benchThirdOf are in a third group, so that n
	// users hold 2n + 3n/50 memberships (206,000 at 100,000).
	benchThirdOf  = 50
	benchThirdLow = 3
)

var (
	benchGiven = []string{"Jörg", "Łukasz", "Zoë", "Siobhán", "Ørjan", "Çağla", "Nguyễn", "Ярослав", "Μαρία", "Renée", "Ana", "Kai"}
	benchSur   = []string{"Müller", "Żółć", "Ångström", "O'Brien", "Đặng", "Søndergård", "Иванова", "Παπαδόπουλος", "García", "Smith"}
)

// benchUserRDN is the RDN value of user i, unescaped, and its attribute: one
// user in five is named by cn, with a value holding every character a DN
// must escape (`,` `+` `"` `\`) and non-ASCII letters; the others by uid.
func benchUserRDN(i int) (attr, value string) {
	if i%5 == 0 {
		return "cn", fmt.Sprintf("%s, %s +%d \"%s\" \\ %06d", benchSur[i%len(benchSur)], benchGiven[i%len(benchGiven)], i%7, benchGiven[(i/7)%len(benchGiven)], i)
	}
	return "uid", fmt.Sprintf("user%06d", i)
}

// BenchDirectoryUserDN is the DN of the i-th BenchDirectory user.
func BenchDirectoryUserDN(i int) string {
	a, v := benchUserRDN(i)
	return a + "=" + EscapeRDNValue(v) + "," + PeopleDN
}

// benchGroupName is group g's cn: non-ASCII, every tenth with a comma and a plus.
func benchGroupName(g int) string {
	if g%10 == 0 {
		return fmt.Sprintf("Équipe %s, Øst +%03d", benchSur[g%len(benchSur)], g)
	}
	return fmt.Sprintf("Gruppe %s %03d", benchGiven[g%len(benchGiven)], g)
}

// BenchDirectoryGroupDN is the DN of BenchDirectory group g.
func BenchDirectoryGroupDN(g int) string {
	return "cn=" + EscapeRDNValue(benchGroupName(g)) + "," + GroupsDN
}

// benchGroupsOf lists the groups user i is in: two, and a third for 3 users in 50.
func benchGroupsOf(i int) []int {
	g1, g2 := i%BenchGroups, (i*7+3)%BenchGroups // never equal: 6i+3 is odd
	if i%benchThirdOf >= benchThirdLow {
		return []int{g1, g2}
	}
	g3 := (i*13 + 11) % BenchGroups
	for g3 == g1 || g3 == g2 {
		g3 = (g3 + 1) % BenchGroups
	}
	return []int{g1, g2, g3}
}

// BenchDirectoryMemberships is how many memberships BenchDirectory(n) holds.
func BenchDirectoryMemberships(n int) int {
	m := 0
	for i := range n {
		m += len(benchGroupsOf(i))
	}
	return m
}

// BenchDirectory writes the benchmark directory: n inetOrgPerson users with
// non-ASCII names (one in five with a DN escaping , + " \), 200 groupOfNames
// groups holding 2.06n memberships, and memberOf on each user. slapadd does
// not run overlays, so memberOf is written as an attribute here, as the
// memberof overlay (loaded, olcMemberOfRefInt) keeps it on later changes.
func BenchDirectory(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	members := make([][]string, BenchGroups)
	groupDNs := make([]string, BenchGroups)
	for g := range groupDNs {
		groupDNs[g] = BenchDirectoryGroupDN(g)
	}
	for i := range n {
		dn := BenchDirectoryUserDN(i)
		attr, val := benchUserRDN(i)
		given := fmt.Sprintf("%s%d", benchGiven[i%len(benchGiven)], i)
		sn := benchSur[(i/3)%len(benchSur)]
		ldifLine(bw, "dn", dn)
		bw.WriteString("objectClass: inetOrgPerson\n")
		fmt.Fprintf(bw, "uid: user%06d\n", i)
		if attr == "cn" {
			ldifLine(bw, "cn", val)
		} else {
			ldifLine(bw, "cn", given+" "+sn)
		}
		ldifLine(bw, "givenName", given)
		ldifLine(bw, "sn", sn)
		fmt.Fprintf(bw, "mail: user%06d@example.com\ntelephoneNumber: +1 555 %07d\n", i, i)
		for _, g := range benchGroupsOf(i) {
			ldifLine(bw, "memberOf", groupDNs[g])
			members[g] = append(members[g], dn)
		}
		bw.WriteString("\n")
	}
	for g, ms := range members {
		ldifLine(bw, "dn", groupDNs[g])
		bw.WriteString("objectClass: groupOfNames\n")
		ldifLine(bw, "cn", benchGroupName(g))
		for _, m := range ms {
			ldifLine(bw, "member", m)
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// ldifLine writes "name: value", base64 ("name:: …") when the value is not
// a safe LDIF string (RFC 2849): non-ASCII, or a leading space, colon or <.
func ldifLine(w *bufio.Writer, name, value string) {
	safe := value == "" || (value[0] != ' ' && value[0] != ':' && value[0] != '<')
	for i := 0; safe && i < len(value); i++ {
		safe = value[i] >= 0x20 && value[i] < utf8.RuneSelf
	}
	if safe {
		fmt.Fprintf(w, "%s: %s\n", name, value)
		return
	}
	fmt.Fprintf(w, "%s:: %s\n", name, base64.StdEncoding.EncodeToString([]byte(value)))
}

// EscapeRDNValue escapes an attribute value for a DN string (RFC 4514):
// , + " \ < > ; and = with a backslash, a leading # or space and a trailing space.
func EscapeRDNValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case strings.IndexByte(",+\"\\<>;=", c) >= 0,
			i == 0 && (c == '#' || c == ' '),
			i == len(v)-1 && c == ' ':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

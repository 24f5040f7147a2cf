package secrets

import (
	"path"
	"strings"
)

// Categories of notable files.
const (
	// Sensitive files hold or are credentials (CMP-006).
	Sensitive = "sensitive"
	// Backdoor files open a way in (CMP-007).
	Backdoor = "backdoor"
)

// FileClass says why a file matters by its name.
type FileClass struct {
	// Kind is a stable identifier ("ssh-private-key", "env-file", ...).
	Kind string
	// Category is Sensitive or Backdoor.
	Category string
	// What describes the file for a person ("SSH private key").
	What string
}

var byName = map[string]FileClass{
	"id_rsa":                {"ssh-private-key", Sensitive, "SSH private key"},
	"id_dsa":                {"ssh-private-key", Sensitive, "SSH private key"},
	"id_ecdsa":              {"ssh-private-key", Sensitive, "SSH private key"},
	"id_ed25519":            {"ssh-private-key", Sensitive, "SSH private key"},
	"id_ecdsa_sk":           {"ssh-private-key", Sensitive, "SSH private key"},
	"id_ed25519_sk":         {"ssh-private-key", Sensitive, "SSH private key"},
	".env":                  {"env-file", Sensitive, ".env file"},
	".git-credentials":      {"git-credentials", Sensitive, "git credential store"},
	".netrc":                {"netrc", Sensitive, ".netrc credentials file"},
	"_netrc":                {"netrc", Sensitive, ".netrc credentials file"},
	".npmrc":                {"npmrc", Sensitive, "npm registry configuration (auth tokens)"},
	".pypirc":               {"pypirc", Sensitive, "PyPI upload credentials file"},
	".dockercfg":            {"docker-config", Sensitive, "Docker registry credentials file"},
	".pgpass":               {"pgpass", Sensitive, "PostgreSQL password file"},
	".my.cnf":               {"mysql-config", Sensitive, "MySQL client configuration (passwords)"},
	".vault-token":          {"vault-token", Sensitive, "Vault token file"},
	".s3cfg":                {"s3cfg", Sensitive, "s3cmd credentials file"},
	".boto":                 {"boto", Sensitive, "boto credentials file"},
	".htpasswd":             {"htpasswd", Sensitive, "htpasswd password file"},
	"htpasswd":              {"htpasswd", Sensitive, "htpasswd password file"},
	"credentials.tfrc.json": {"terraform-credentials", Sensitive, "Terraform credentials file"},
	".terraformrc":          {"terraform-credentials", Sensitive, "Terraform CLI configuration (tokens)"},
	"secring.gpg":           {"gpg-private-key", Sensitive, "GnuPG secret keyring"},
	".bash_history":         {"shell-history", Sensitive, "shell history"},
	".zsh_history":          {"shell-history", Sensitive, "shell history"},
	".sh_history":           {"shell-history", Sensitive, "shell history"},
	".ash_history":          {"shell-history", Sensitive, "shell history"},
	".history":              {"shell-history", Sensitive, "shell history"},
	".python_history":       {"shell-history", Sensitive, "Python REPL history"},
	".psql_history":         {"shell-history", Sensitive, "psql history"},
	".mysql_history":        {"shell-history", Sensitive, "MySQL client history"},
	".node_repl_history":    {"shell-history", Sensitive, "Node.js REPL history"},
	".rediscli_history":     {"shell-history", Sensitive, "redis-cli history"},
	"authorized_keys":       {"authorized-keys", Backdoor, "SSH authorized_keys"},
	"authorized_keys2":      {"authorized-keys", Backdoor, "SSH authorized_keys"},
}

// bySuffix are path suffixes (after a "/").
var bySuffix = []struct {
	suffix string
	class  FileClass
}{
	{".aws/credentials", FileClass{"aws-credentials", Sensitive, "AWS credentials file"}},
	{".docker/config.json", FileClass{"docker-config", Sensitive, "Docker registry credentials file"}},
	{"containers/auth.json", FileClass{"docker-config", Sensitive, "container registry credentials file"}},
	{".kube/config", FileClass{"kubeconfig", Sensitive, "Kubernetes client configuration (cluster credentials)"}},
	{".config/gcloud/application_default_credentials.json", FileClass{"gcp-credentials", Sensitive, "Google Cloud credentials file"}},
	{".config/gcloud/credentials.db", FileClass{"gcp-credentials", Sensitive, "Google Cloud credentials database"}},
	{".config/gcloud/access_tokens.db", FileClass{"gcp-credentials", Sensitive, "Google Cloud access tokens"}},
	{".azure/accessTokens.json", FileClass{"azure-credentials", Sensitive, "Azure CLI access tokens"}},
	{".azure/msal_token_cache.json", FileClass{"azure-credentials", Sensitive, "Azure CLI token cache"}},
	{".gem/credentials", FileClass{"gem-credentials", Sensitive, "RubyGems credentials file"}},
	{".composer/auth.json", FileClass{"composer-auth", Sensitive, "Composer credentials file"}},
	{".config/pip/pip.conf", FileClass{"pip-config", Sensitive, "pip configuration (index credentials)"}},
	{".pip/pip.conf", FileClass{"pip-config", Sensitive, "pip configuration (index credentials)"}},
}

// byExt are file extensions of keystores and key files.
var byExt = map[string]FileClass{
	".jks":      {"keystore", Sensitive, "Java keystore"},
	".jceks":    {"keystore", Sensitive, "Java keystore"},
	".keystore": {"keystore", Sensitive, "keystore"},
	".bks":      {"keystore", Sensitive, "BouncyCastle keystore"},
	".p12":      {"keystore", Sensitive, "PKCS#12 keystore"},
	".pfx":      {"keystore", Sensitive, "PKCS#12 keystore"},
	".ppk":      {"putty-private-key", Sensitive, "PuTTY private key"},
	".kdbx":     {"password-database", Sensitive, "KeePass password database"},
	".tfstate":  {"terraform-state", Sensitive, "Terraform state (holds resource secrets)"},
}

// minerNames are the file names of well-known cryptocurrency miners and of
// the malware that drops them.
var minerNames = map[string]bool{
	"xmrig": true, "xmrig-notls": true, "xmr-stak": true, "xmr-stak-cpu": true, "xmr-stak-rx": true,
	"minerd": true, "cpuminer": true, "cpuminer-multi": true, "cpuminer-opt": true, "ccminer": true,
	"cgminer": true, "bfgminer": true, "ethminer": true, "nbminer": true, "t-rex": true,
	"lolminer": true, "phoenixminer": true, "nanominer": true, "teamredminer": true, "gminer": true,
	"srbminer": true, "srbminer-multi": true, "xmr-miner": true, "kdevtmpfsi": true, "kinsing": true,
	"xmrigdaemon": true, "xmrigminer": true,
}

// ShellNames are the base names of shells, for spotting setuid copies.
var ShellNames = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ash": true, "ksh": true, "ksh93": true,
	"mksh": true, "busybox": true, "fish": true, "tcsh": true, "csh": true, "rbash": true, "yash": true,
}

// ClassifyPath says whether the file at the absolute path p matters by its
// name alone: credentials files, private key files, shell history, keystores,
// authorized_keys, SSH host keys, miners.
func ClassifyPath(p string) (FileClass, bool) {
	base := path.Base(p)
	if c, ok := byName[base]; ok {
		return c, true
	}
	if strings.HasPrefix(base, ".env.") {
		switch strings.TrimPrefix(base, ".env.") {
		case "example", "sample", "template", "dist", "defaults", "schema", "tpl", "example.local":
			return FileClass{}, false
		}
		return FileClass{"env-file", Sensitive, ".env file"}, true
	}
	if strings.HasPrefix(p, "/etc/ssh/ssh_host_") && strings.HasSuffix(base, "_key") {
		return FileClass{"ssh-host-key", Sensitive, "SSH host private key (every container of the image shares it)"}, true
	}
	if strings.Contains(p, "/private-keys-v1.d/") && strings.HasSuffix(base, ".key") {
		return FileClass{"gpg-private-key", Sensitive, "GnuPG private key"}, true
	}
	for _, s := range bySuffix {
		if strings.HasSuffix(p, "/"+s.suffix) {
			return s.class, true
		}
	}
	if c, ok := byExt[strings.ToLower(path.Ext(base))]; ok {
		return c, true
	}
	if minerNames[strings.ToLower(base)] {
		return FileClass{"miner", Backdoor, "cryptocurrency miner"}, true
	}
	return FileClass{}, false
}

// GitDir returns the .git directory that p lies in ("/src/.git" for
// "/src/.git/config"), if any.
func GitDir(p string) (string, bool) {
	i := strings.Index(p, "/.git/")
	if i < 0 {
		return "", false
	}
	return p[:i+len("/.git")], true
}

// IsScript says whether a text file is a script for the "scripts" scope:
// a #! line, a shell extension, an executable text file, a crontab or a
// shell start-up file.
func IsScript(p string, head []byte, executable bool) bool {
	if len(head) >= 2 && head[0] == '#' && head[1] == '!' || executable {
		return true
	}
	base := path.Base(p)
	switch path.Ext(base) {
	case ".sh", ".bash", ".zsh", ".ksh":
		return true
	}
	switch base {
	case ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zprofile", ".kshrc", "rc.local", "bash.bashrc", "profile", "crontab":
		return true
	}
	for _, dir := range []string{"/etc/cron.", "/etc/cron.d/", "/var/spool/cron/", "/etc/init.d/", "/etc/profile.d/", "/etc/rc"} {
		if strings.HasPrefix(p, dir) {
			return true
		}
	}
	return false
}

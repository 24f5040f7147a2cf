// Package inventory holds what the analyzers learned about an image: its OS,
// accounts, packages, executables and runtimes. It is plain data, filled by
// package analyzer and read by the checks.
package inventory

// OS is the operating system named by the image's os-release file.
type OS struct {
	ID              string   `json:"id"`
	IDLike          []string `json:"id_like,omitempty"`
	Name            string   `json:"name,omitempty"`
	PrettyName      string   `json:"pretty_name,omitempty"`
	VersionID       string   `json:"version_id,omitempty"`
	VersionCodename string   `json:"version_codename,omitempty"`
	// Path is the file it was read from, after symlinks.
	Path  string `json:"path"`
	Layer int    `json:"layer"`
}

// User is one line of /etc/passwd.
type User struct {
	Name     string `json:"name"`
	Password string `json:"-"`
	UID      int    `json:"uid"`
	GID      int    `json:"gid"`
	Home     string `json:"home,omitempty"`
	Shell    string `json:"shell,omitempty"`
	Line     int    `json:"line"`
}

// Group is one line of /etc/group.
type Group struct {
	Name    string   `json:"name"`
	GID     int      `json:"gid"`
	Members []string `json:"members,omitempty"`
	Line    int      `json:"line"`
}

// Shadow is one line of /etc/shadow; only whether the hash is empty matters.
type Shadow struct {
	Name string `json:"name"`
	// Hash is the password field: "" (no password), "!" or "*" (locked), or a hash.
	Hash string `json:"-"`
	Line int    `json:"line"`
}

// Accounts are the image's user database, each file with the layer that wrote it.
type Accounts struct {
	Users       []User   `json:"users,omitempty"`
	Groups      []Group  `json:"groups,omitempty"`
	Shadow      []Shadow `json:"-"`
	HasPasswd   bool     `json:"has_passwd"`
	HasGroup    bool     `json:"has_group"`
	HasShadow   bool     `json:"has_shadow"`
	PasswdLayer int      `json:"passwd_layer"`
	GroupLayer  int      `json:"group_layer"`
	ShadowLayer int      `json:"shadow_layer"`
}

// UserByName returns the first user with that name.
func (a *Accounts) UserByName(name string) (User, bool) {
	for _, u := range a.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// UserByUID returns the first user with that uid.
func (a *Accounts) UserByUID(uid int) (User, bool) {
	for _, u := range a.Users {
		if u.UID == uid {
			return u, true
		}
	}
	return User{}, false
}

// GroupByName returns the first group with that name.
func (a *Accounts) GroupByName(name string) (Group, bool) {
	for _, g := range a.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

// Package is one installed package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Type is "os" for packages of the OS package manager, "lang" for language
	// packages, "binary" for software recognised from a file.
	Type string `json:"type,omitempty"`
	// PURL is the package URL (https://github.com/package-url/purl-spec).
	PURL string `json:"purl,omitempty"`
	// Ecosystem is one of the Ecosystem constants ("deb", "apk", "Go", "npm",
	// ...); Eco returns it typed.
	Ecosystem     string   `json:"ecosystem"`
	Arch          string   `json:"arch,omitempty"`
	SourceName    string   `json:"source_name,omitempty"`
	SourceVersion string   `json:"source_version,omitempty"`
	Licenses      []string `json:"licenses,omitempty"`
	// Path is the file that evidences the package (package database or binary).
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// LicensePaths are the files the licenses were read from.
	LicensePaths []string `json:"license_paths,omitempty"`
}

// Binary is an executable regular file of the final filesystem.
type Binary struct {
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// Format is "elf", "script" or "other".
	Format string `json:"format"`
	// Arch is the ELF machine as a GOARCH name ("amd64", "arm64", ...).
	Arch string `json:"arch,omitempty"`
	// Interp is the ELF program interpreter (dynamic loader); empty for static binaries.
	Interp string `json:"interp,omitempty"`
	// Shebang is the interpreter line of a script, without "#!".
	Shebang string `json:"shebang,omitempty"`
	// GoVersion is the Go toolchain that built the binary ("go1.22.3"), if it is a Go binary.
	GoVersion string `json:"go_version,omitempty"`
	// GoModule is the main module path of a Go binary.
	GoModule string `json:"go_module,omitempty"`
}

// Runtime is a language runtime or server found in the image, with where it was seen.
type Runtime struct {
	// Product is the endoflife.date product slug ("go", "nodejs", "python", ...).
	Product string `json:"product"`
	Version string `json:"version"`
	// Evidence says where the version was read ("/usr/local/bin/app (Go build info)", "ENV NODE_VERSION").
	Evidence string `json:"evidence"`
	Path     string `json:"path,omitempty"`
	Layer    int    `json:"layer"`
}

// Inventory is everything the analyzers found.
type Inventory struct {
	OS       *OS                `json:"os,omitempty"`
	Accounts Accounts           `json:"accounts"`
	Packages []Package          `json:"packages,omitempty"`
	Binaries map[string]*Binary `json:"-"`
	Runtimes []Runtime          `json:"runtimes,omitempty"`
	// PackageDBs lists the package databases found ("/var/lib/dpkg/status").
	PackageDBs []string `json:"package_dbs,omitempty"`
	// Owned maps files of the final filesystem that an OS package installed
	// to that package's name, from the package manager's file lists.
	Owned map[string]string `json:"-"`
	// Secrets are the secrets, sensitive files and backdoor indicators found
	// in every version of every file, deleted and overwritten ones included.
	Secrets SecretScan `json:"secrets"`
}

// Owner returns the OS package that installed path, if any.
func (inv *Inventory) Owner(path string) (string, bool) {
	p, ok := inv.Owned[path]
	return p, ok
}

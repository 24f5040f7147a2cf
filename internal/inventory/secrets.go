package inventory

// SecretHit is a secret or backdoor rule that matched one version of one file.
type SecretHit struct {
	// Rule is the rule's ID ("aws-access-key-id") and Description its text.
	Rule        string `json:"rule"`
	Description string `json:"description"`
	// Kind is "secret" (CMP-004) or "backdoor" (CMP-007).
	Kind  string `json:"kind"`
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// Line is 1-based; 0 when the rule matched the path alone.
	Line int `json:"line,omitempty"`
	// Match is the matched text with the secret masked, safe to show.
	Match string `json:"match"`
	// Current says this version of the file is the one in the final filesystem.
	Current bool `json:"current"`
	// RemovedBy is the layer that deleted or overwrote this version; -1 when current.
	RemovedBy int `json:"removed_by"`
}

// NotableFile is one version of a file that matters by its name or type:
// a credentials file, a private key, shell history, a .git directory, a
// keystore (sensitive), or authorized_keys, a miner, a setuid shell, a cron
// job (backdoor).
type NotableFile struct {
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// Kind is a stable identifier ("ssh-private-key", "git-dir", "setuid-shell", ...).
	Kind string `json:"kind"`
	// Category is "sensitive" (CMP-006) or "backdoor" (CMP-007).
	Category string `json:"category"`
	// What describes the file for a person.
	What      string `json:"what"`
	Size      int64  `json:"size"`
	Current   bool   `json:"current"`
	RemovedBy int    `json:"removed_by"`
}

// SecretScan is what the secret scanner found in every layer.
type SecretScan struct {
	Hits  []SecretHit   `json:"hits,omitempty"`
	Files []NotableFile `json:"files,omitempty"`
	// FilesScanned and BytesScanned count the text file versions whose
	// contents were scanned.
	FilesScanned int   `json:"files_scanned"`
	BytesScanned int64 `json:"bytes_scanned"`
}

package analyzer

// Version names the analyzers' behaviour. Change it whenever an analyzer
// finds something different in the same image: cached facts of another
// version are not used.
const Version = "2026.12.1"

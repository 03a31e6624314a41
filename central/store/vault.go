package store

// Vault is the identity vault's storage: people registered with the
// province, kept encrypted and found by a blind index. (Filled in by the
// identity-vault work.)
type Vault interface{}

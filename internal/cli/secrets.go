package cli

import "strings"

// refuseKeyFlags refuses an API key given as a flag (--key, --vision-key,
// --prediction-key, --api-key, … in any command): the command line is
// visible to every user in ps and kept in shell history, so keys come only
// from the environment or the app's keyring. The message names the flag,
// never its value, and the variable the command reads the key from.
// Arguments after "--" are inputs, not flags.
func refuseKeyFlags(cmd string, args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !isKeyFlag(name) {
			continue
		}
		env := "VISION_KEY"
		switch lower := strings.ToLower(name); {
		case strings.Contains(lower, "predict"):
			env = "CUSTOM_VISION_PREDICTION_KEY"
		case strings.Contains(lower, "train"):
			env = "CUSTOM_VISION_TRAINING_KEY"
		case cmd == "document":
			env = "DOCUMENT_INTELLIGENCE_KEY"
		}
		return usagef("-%s: keys are not accepted as flags, because the command line shows in ps and shell history; "+
			"set %s in the environment or save the key in the app's settings (OS keyring)", name, env)
	}
	return nil
}

// isKeyFlag matches key, api-key, apikey, vision-key, prediction_key, …
// but not names that merely end in "key" (monkey).
func isKeyFlag(name string) bool {
	n := strings.ToLower(name)
	return n == "key" || n == "apikey" || n == "subscription-key" ||
		strings.HasSuffix(n, "-key") || strings.HasSuffix(n, "_key")
}

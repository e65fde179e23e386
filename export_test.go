package probonus

// ParseSources is parseSources for the external tests.
var ParseSources = parseSources

#!/usr/bin/env node
// The `netsan` command. A committed shim, so that npm can link it before the build has run.
import '../dist/cli.js'

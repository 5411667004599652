// The three packages as the registry would get them: `npm pack` of each workspace package, from the
// built packages/*/dist (the root test script builds first). Shared by the packaging tests.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const REPO = path.resolve(import.meta.dirname, '..')
export const PACKAGES = {
  netsan: 'packages/core',
  'jest-environment-netsan': 'packages/jest-env',
  'vitest-environment-netsan': 'packages/vitest-env',
}

/**
 * Runs a command in its own process group; kills the group if it outlives `timeoutMs`. Resolves with
 * the exit code and the output, never rejects. Colours off, NETSAN unset: the tests read the output.
 */
export function run(command, args, { cwd = REPO, env = {}, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    const childEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }
    delete childEnv.NETSAN
    const started = performance.now()
    const child = spawn(command, args, {
      cwd,
      env: childEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeoutMs)
    const done = (code, error) => {
      clearTimeout(timer)
      const ms = Math.round(performance.now() - started)
      resolve({ code, stdout, stderr: error ? `${stderr}${error.message}` : stderr, timedOut, ms })
    }
    child.on('error', (error) => done(-1, error))
    child.on('close', (code) => done(code))
  })
}

/** Output for an assertion message. */
export const show = (r) =>
  `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** npm itself: the one running `npm test`, else the one on PATH. */
export function npmCommand() {
  const cli = process.env.npm_execpath
  return cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli]] : ['npm', []]
}

/** Packs the three packages into a new temporary directory: { dir, tarballs: { name → absolute path } }. */
export async function packAll() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-pack-'))
  const [npm, prefix] = npmCommand()
  const workspaces = Object.values(PACKAGES).flatMap((p) => ['--workspace', p])
  const r = await run(npm, [...prefix, 'pack', ...workspaces, '--json', '--pack-destination', dir])
  if (r.code !== 0) throw new Error(`npm pack failed:\n${show(r)}`)
  const packed = JSON.parse(r.stdout)
  const tarballs = Object.fromEntries(packed.map((p) => [p.name, path.join(dir, p.filename)]))
  for (const name of Object.keys(PACKAGES)) {
    if (!tarballs[name]) throw new Error(`npm pack did not pack ${name}:\n${r.stdout}`)
  }
  return { dir, tarballs, packed }
}

import type { Site } from './stack.ts'
import type { LateStart, LeakKind } from './types.ts'

/**
 * Which scope end judges a resource: its own scope's (`test`); the end of the describe block or file
 * around the test that made it (`block`: a server a test starts often serves the next tests, and one a
 * block's `beforeAll` starts is that block's); or the enclosing file's (`file`: what libraries manage).
 */
export type CheckAt = 'test' | 'block' | 'file'

/** A site with what it is, for a report that shows more than one line (`pool created`, `first request`). */
export interface LabelledSite {
  title: string
  site: Site
}

/**
 * The scope that opened a resource another scope now holds: a test whose file-level resource moved up
 * to the file, a describe block, a file whose shared module made a worker's resource, or a scope that
 * had already ended when work it left running made the resource (`late`).
 */
export interface OpenedIn {
  name: string
  type: string
  late?: LateStart
}

/**
 * One tracked network resource. Trackers create these and keep the fields current;
 * the scope that owns it decides at its end whether it leaked.
 */
export class Resource {
  kind: LeakKind
  checkAt: CheckAt
  site: Site
  owner: ResourceOwner
  describe: () => string
  /** Open here means "would be a leak if the scope ended now". */
  isOpen: () => boolean
  /** Resolves the settle wait early; resources without events are judged by state alone. */
  whenClosed: ((done: () => void) => void) | undefined
  close: (() => void) | undefined
  /**
   * Labelled sites, when one line is not enough (an idle connection: where its pool was created, where
   * its first request came from), read at report time. The first with user code leads the report.
   */
  sites: (() => LabelledSite[] | undefined) | undefined
  /** A fix more specific than the kind's default (node:http bodies, http.Agent pools); a function decides at report time. */
  fix: string | (() => string | undefined) | undefined
  /** Set once reported, so the file end does not report it a second time. */
  reported = false
  /** The scope that opened it, kept when it moves up (or was made late: see `OpenedIn`). */
  openedIn: OpenedIn | undefined

  constructor(init: {
    kind: LeakKind
    checkAt: CheckAt
    site: Site
    owner: ResourceOwner
    /** Redacted origin (`http://127.0.0.1:8080`), when known; a function defers the URL parsing to a report. */
    origin?: string | (() => string) | undefined
    describe: () => string
    isOpen: () => boolean
    whenClosed?: ((done: () => void) => void) | undefined
    close?: (() => void) | undefined
    fix?: string | (() => string | undefined) | undefined
    sites?: (() => LabelledSite[] | undefined) | undefined
  }) {
    this.kind = init.kind
    this.checkAt = init.checkAt
    this.site = init.site
    // A scope may hand what it creates to one that outlives it (Scope.ownerFor): what a shared module
    // makes goes to the worker, what an ended scope's leftover work makes to its live ancestor.
    const owner = init.owner.ownerFor?.(init.site) ?? init.owner
    this.owner = owner
    this.originSource = init.origin
    this.describe = init.describe
    this.isOpen = init.isOpen
    this.whenClosed = init.whenClosed
    this.close = init.close
    this.fix = init.fix
    this.sites = init.sites
    // Handed to a longer-lived scope: the report still says which scope made it.
    this.openedIn =
      owner === init.owner
        ? undefined
        : (init.owner.origin?.() ?? { name: init.owner.name ?? '', type: 'scope' })
    owner.add(this)
  }

  private originSource: string | (() => string) | undefined

  /** Redacted origin (`http://127.0.0.1:8080`), when known. */
  get origin(): string | undefined {
    if (typeof this.originSource === 'function') this.originSource = this.originSource()
    return this.originSource
  }

  /** Called by trackers on a close event: the ledger forgets it, so it can be collected. */
  release(): void {
    this.owner.remove(this)
  }

  /** Hands the resource to another scope (a file-level resource moving up at its test's end). */
  moveTo(owner: ResourceOwner): void {
    this.owner.remove(this)
    this.owner = owner
    owner.add(this)
  }
}

/** Minimal view of a scope that a resource needs; the real class is in scope.ts. */
export interface ResourceOwner {
  add(resource: Resource): void
  remove(resource: Resource): void
  readonly name?: string
  /** Who owns what is created at `site` now: itself, or a longer-lived scope. */
  ownerFor?(site: Site): ResourceOwner
  /** How a resource it hands to another scope remembers it (with how late, if it has ended). */
  origin?(): OpenedIn
}

interface TaskLike {
  name: string
  type?: string
  suite?: TaskLike
}

/** `describe > nested > test`, as Vitest prints it, without the file. */
export function testName(task: TaskLike): string {
  const parts = [task.name]
  for (let s = task.suite; s && s.type === 'suite' && s.name; s = s.suite) parts.unshift(s.name)
  return parts.join(' > ')
}

/** One example per language, each printing to both streams so a newcomer sees how output is shown. */
export const EXAMPLE_SCRIPTS: Record<string, string> = {
  python: `import sys
from dataclasses import dataclass


@dataclass
class Point:
    x: float
    y: float


def describe(value: int | str) -> str:
    match value:
        case int(n) if n % 2 == 0:
            return f"{n} is even"
        case int(n):
            return f"{n} is odd"
        case str(s):
            return f"a string of length {len(s)}"


for item in (1, 2, "hello"):
    print(describe(item))
print(Point(1.5, 2.0))
print("\\x1b[32mgreen\\x1b[0m and \\x1b[1mbold\\x1b[0m text")
print("this line goes to stderr", file=sys.stderr)
`,
  node: `const words = ['sandbox', 'stream', 'serverless'];
const lengths = Object.fromEntries(words.map((w) => [w, w.length]));
console.log('word lengths:', lengths);
console.log(\`Node \${process.version} on \${process.platform}\`);
console.error('this line goes to stderr');
`,
  ruby: `Point = Struct.new(:x, :y) do
  def to_s = "(#{x}, #{y})"
end

puts [3, 1, 2].sort.map { |n| n * 2 }.inspect
puts Point.new(1, 2)
warn 'this line goes to stderr'
`,
  bash: `#!/usr/bin/env bash
set -euo pipefail
name="sandbox"
echo "Hello from \${name^^} (bash \${BASH_VERSION})"
for i in 1 2 3; do printf 'line %d\\n' "$i"; done
echo "this line goes to stderr" >&2
`,
  go: `package main

import (
	"fmt"
	"os"
)

func main() {
	squares := make(map[int]int)
	for i := 1; i <= 3; i++ {
		squares[i] = i * i
	}
	fmt.Println("squares:", squares)
	fmt.Fprintln(os.Stderr, "this line goes to stderr")
}
`,
};

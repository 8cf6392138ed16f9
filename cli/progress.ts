/** A one-line progress bar on a terminal; plain lines every 10% when output is not a TTY. */
export function progressBar(total: number, label: string, out: NodeJS.WriteStream = process.stderr): { tick(n: number): void; remaining(): number; done(): void } {
  let current = 0;
  let lastDecile = -1;
  const draw = () => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((current / total) * width);
    if (out.isTTY) out.write(`\r${label} [${"=".repeat(filled)}${" ".repeat(width - filled)}] ${current}/${total}`);
    else {
      const decile = total === 0 ? 10 : Math.floor((current / total) * 10);
      if (decile !== lastDecile) out.write(`${label} ${current}/${total}\n`);
      lastDecile = decile;
    }
  };
  draw();
  return {
    tick(n) {
      if (n <= 0) return;
      current = Math.min(total, current + n);
      draw();
    },
    remaining: () => total - current,
    done() {
      if (out.isTTY) out.write("\n");
    },
  };
}

// The small-multiples grid shared by the dashboard and compareRuns: axis domains computed here (not plotly's
// `grid`), so each panel has two lines of its own above its plot (its title, then its legend) and the figure title
// sits in the top margin: nothing overlaps, however long the legend entries.

/** Where panel i of a grid goes: its axis suffix ("" for the first), domains and title/legend anchors. */
export interface PanelCell {
  /** Axis suffix: "" for panel 0, "2", "3", ... after (xaxis2 / yaxis2). */
  ax: string;
  x: [number, number];
  y: [number, number];
}

/** Layout of `n` panels in `cols` columns, `rowHeight` px per row, `top` px of margin above (room for a title). */
export function panelGrid(
  n: number,
  cols: number,
  options: { rowHeight?: number; top?: number; bottom?: number } = {},
): { cells: PanelCell[]; height: number; rows: number } {
  const rowHeight = options.rowHeight ?? 220,
    top = options.top ?? 40,
    bottom = options.bottom ?? 30;
  const rows = Math.max(1, Math.ceil(n / cols));
  const plotHeight = rowHeight * rows;
  const xgap = 0.07,
    headroom = 50 / plotHeight,
    footroom = 28 / plotHeight;
  const cells = Array.from({ length: n }, (_, i) => {
    const r = Math.floor(i / cols),
      c = i % cols;
    const x0 = c / cols + (c ? xgap / 2 : 0),
      x1 = (c + 1) / cols - (c < cols - 1 ? xgap / 2 : 0);
    const y1 = 1 - r / rows - headroom,
      y0 = 1 - (r + 1) / rows + footroom;
    return { ax: i === 0 ? "" : String(i + 1), x: [x0, x1] as [number, number], y: [y0, y1] as [number, number] };
  });
  return { cells, height: top + bottom + plotHeight, rows };
}

/** The panel's title: bold, left-aligned two lines above the plot (the legend's line is between them). */
export function panelTitle(cell: PanelCell, text: string): Record<string, unknown> {
  return {
    text: `<b>${text}</b>`,
    xref: `x${cell.ax} domain`,
    yref: `y${cell.ax} domain`,
    x: 0,
    y: 1,
    xanchor: "left",
    yanchor: "bottom",
    yshift: 20,
    showarrow: false,
    font: { size: 12 },
  };
}

/** A horizontal legend on the line just above the panel's plot (plotly ≥ 2.22: layout.legend2, legend3, ...). */
export function panelLegend(cell: PanelCell): Record<string, unknown> {
  return {
    x: cell.x[0],
    y: cell.y[1],
    xanchor: "left",
    yanchor: "bottom",
    orientation: "h",
    font: { size: 10 },
    bgcolor: "rgba(255,255,255,0)",
  };
}

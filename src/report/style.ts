// System fonts only: a web font would be a network request or a large inline blob.
export const REPORT_CSS = `
body { margin: 0; background: #f6f6f4; color: #1a1a1a; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #d8d8d8; }
.subtitle { color: #555; margin: 0 0 12px; }
dl.run-info { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 0; }
dl.run-info dt { color: #555; }
dl.run-info dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 20px; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card .v { font-size: 22px; font-weight: 600; }
.card .k { color: #555; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.chart-box { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; max-width: 100%; box-sizing: border-box; overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 12px; fill: #1a1a1a; }
svg .chart-title { font-size: 15px; font-weight: 600; }
svg .chart-note { fill: #666; font-size: 11px; }
svg .axis-label { fill: #333; }
svg .axis path { stroke: #444; fill: none; }
svg .grid path { stroke: #e6e6e6; fill: none; }
svg .series { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
svg .cell:hover, svg .bar:hover { stroke: #000; stroke-width: 1.5; }
svg circle:hover { r: 5.5; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e6e6e6; text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0ee; }
th:first-child, td:first-child { text-align: left; }
tr.avg td { font-weight: 600; }
details { margin-top: 12px; }
summary { cursor: pointer; color: #333; }
.empty, .note { color: #666; }
.worst-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 10px; }
.worst-grid figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px; text-align: center; }
.worst-grid img { width: 96px; height: 96px; object-fit: contain; image-rendering: pixelated; background: #000; }
.worst-grid figcaption { display: flex; flex-direction: column; font-size: 12px; overflow-wrap: anywhere; }
.worst-grid .wrong { color: #b00020; font-weight: 600; }
.worst-grid .conf, .worst-grid .index { color: #666; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
`;

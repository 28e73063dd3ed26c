// Horizontal stacked bar chart in SVG, for usage per day, user or model.
import { formatNumber } from './i18n';

export interface BarSeries {
  label: string;
  className: string;
}

export interface BarRow {
  label: string;
  values: number[];
}

const svgNamespace = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** Draws one bar per row, its segments stacked in `series` order, with the total at its end. */
export function stackedBarChart(rows: BarRow[], series: BarSeries[], title: string): SVGSVGElement {
  const labelWidth = 160;
  const barArea = 480;
  const rowHeight = 24;
  const height = rows.length * rowHeight + 30;
  const maximum = Math.max(1, ...rows.map((row) => row.values.reduce((sum, value) => sum + value, 0)));

  const chart = svg('svg', { viewBox: `0 0 ${labelWidth + barArea + 90} ${height}`, role: 'img', class: 'chart' });
  const heading = svg('title', {});
  heading.textContent = title;
  chart.appendChild(heading);

  rows.forEach((row, index) => {
    const y = index * rowHeight + 4;
    const label = svg('text', { x: labelWidth - 8, y: y + 14, 'text-anchor': 'end', class: 'chart-label' });
    label.textContent = row.label;
    chart.appendChild(label);

    let x = labelWidth;
    row.values.forEach((value, seriesIndex) => {
      const width = (value / maximum) * barArea;
      const bar = svg('rect', { x, y, width: Math.max(0, width), height: rowHeight - 8, class: series[seriesIndex].className });
      const tooltip = svg('title', {});
      tooltip.textContent = `${series[seriesIndex].label}: ${formatNumber(value)}`;
      bar.appendChild(tooltip);
      chart.appendChild(bar);
      x += width;
    });

    const total = svg('text', { x: x + 6, y: y + 14, class: 'chart-value' });
    total.textContent = formatNumber(row.values.reduce((sum, value) => sum + value, 0));
    chart.appendChild(total);
  });

  series.forEach((entry, index) => {
    const x = labelWidth + index * 160;
    chart.appendChild(svg('rect', { x, y: height - 18, width: 12, height: 12, class: entry.className }));
    const text = svg('text', { x: x + 18, y: height - 8, class: 'chart-label' });
    text.textContent = entry.label;
    chart.appendChild(text);
  });
  return chart;
}

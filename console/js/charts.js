// Charts with Chart.js (vendored, window.Chart). Every chart made is destroyed when the page changes.

import { yuan } from './format.js';
import { currentLanguage } from './i18n.js';

const made = [];
const PALETTE = ['#1f6feb', '#2da44e', '#d29922', '#cf222e', '#8250df', '#0a7ea4', '#bf3989', '#57606a', '#e16f24', '#1b7c83', '#6e7781', '#953800'];

function Chart() {
  if (!window.Chart) throw new Error('Chart.js is not loaded (console/vendor/chart.umd.min.js)');
  const C = window.Chart;
  C.defaults.animation = false;
  C.defaults.font.family = getComputedStyle(document.body).fontFamily;
  C.defaults.color = '#24292f';
  return C;
}

export function destroyCharts() {
  while (made.length) made.pop().destroy();
}

export function colors(n) {
  return Array.from({ length: n }, (_, i) => PALETTE[i % PALETTE.length]);
}

/**
 * A chart in a canvas. `money` datasets keep the amounts' strings for their tooltips (the bars'
 * lengths need numbers; the text shown is formatted from the strings).
 */
export function chart(canvas, { type, labels, datasets, money = false, percent = false, stacked = false, horizontal = false, legend = true }) {
  const C = Chart();
  const options = {
    responsive: true,
    maintainAspectRatio: false,
    indexAxis: horizontal ? 'y' : 'x',
    plugins: {
      legend: { display: legend, position: type === 'doughnut' || type === 'pie' ? 'right' : 'top' },
      tooltip: {
        callbacks: {
          label: (item) => {
            const ds = item.dataset;
            const text = ds.texts ? ds.texts[item.dataIndex] : item.formattedValue;
            const shown = money ? yuan(text) : text;
            return `${ds.label ? ds.label + ': ' : ''}${shown}${percent ? ` (${Number(item.raw).toFixed(4)}%)` : ''}`;
          },
        },
      },
    },
  };
  if (type === 'bar') {
    const valueAxis = {
      stacked,
      beginAtZero: true,
      ticks: money ? { callback: (v) => shortYuan(v) } : percent ? { callback: (v) => `${v}%` } : { precision: 0 },
    };
    if (percent) valueAxis.suggestedMax = 100;
    options.scales = horizontal ? { x: valueAxis, y: { stacked } } : { y: valueAxis, x: { stacked } };
  }
  const instance = new C(canvas, { type, data: { labels, datasets }, options });
  made.push(instance);
  return instance;
}

// Axis ticks only (numbers the chart computed itself): 万 / 亿 in Chinese, k / M / B in English.
function shortYuan(value) {
  const n = Number(value);
  const steps = currentLanguage() === 'zh-CN' ? [[1e8, '亿'], [1e4, '万']] : [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of steps) {
    if (Math.abs(n) >= size) return `¥${(n / size).toLocaleString('en', { maximumFractionDigits: 2 })}${unit}`;
  }
  return `¥${n}`;
}

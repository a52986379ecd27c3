import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { LineChart as ELine } from 'echarts/charts';
import { GridComponent, TooltipComponent, TitleComponent, DataZoomComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

// Only what the detail page draws, to keep the bundle small.
echarts.use([ELine, GridComponent, TooltipComponent, TitleComponent, DataZoomComponent, CanvasRenderer]);

export interface Point {
  t: number; // ms since epoch
  v: number;
}

/** A gap longer than this between two points (the task was paused or stopped) breaks the line. */
const GAP_MS = 10_000;

/** The series data: [time, value] pairs, with a null between points further apart than GAP_MS. */
export function seriesData(points: Point[]): [number, number | null][] {
  const out: [number, number | null][] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (i > 0 && p.t - points[i - 1].t > GAP_MS) out.push([points[i - 1].t + 1, null]);
    out.push([p.t, p.v]);
  }
  return out;
}

/** A time-series line chart (Apache ECharts). */
export default function LineChart(props: {
  title: string;
  unit: string;
  points: Point[];
  color: string;
  dark: boolean;
  testId?: string;
  empty?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, props.dark ? 'dark' : undefined, { renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [props.dark]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.setOption(
      {
        backgroundColor: 'transparent',
        title: { text: `${props.title} (${props.unit})`, left: 8, top: 4, textStyle: { fontSize: 13, fontWeight: 500 } },
        grid: { left: 56, right: 16, top: 40, bottom: 28 },
        tooltip: {
          trigger: 'axis',
          valueFormatter: (v: unknown) => (typeof v === 'number' ? `${+v.toFixed(2)} ${props.unit}` : String(v)),
        },
        xAxis: {
          type: 'time',
          splitLine: { show: false },
          splitNumber: 4,
          axisLabel: { hideOverlap: true, formatter: { hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' } },
        },
        yAxis: { type: 'value', min: 0, axisLabel: { hideOverlap: true } },
        series: [
          {
            type: 'line',
            name: props.title,
            showSymbol: false,
            smooth: true,
            connectNulls: false,
            areaStyle: { opacity: 0.12 },
            lineStyle: { width: 1.5 },
            itemStyle: { color: props.color },
            data: seriesData(props.points),
          },
        ],
      },
      { notMerge: false, lazyUpdate: true },
    );
  }, [props.points, props.title, props.unit, props.color, props.dark]);

  return (
    <div style={{ position: 'relative' }}>
      <div ref={el} className="tb-chart" data-testid={props.testId} data-points={props.points.length} />
      {props.points.length === 0 && props.empty && (
        <div style={{ position: 'absolute', inset: '40px 16px 28px 56px', display: 'flex', alignItems: 'center', justifyContent: 'center', opacity: 0.45, fontSize: 12, pointerEvents: 'none' }}>
          {props.empty}
        </div>
      )}
    </div>
  );
}

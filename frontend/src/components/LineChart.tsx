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
        xAxis: { type: 'time', splitLine: { show: false } },
        yAxis: { type: 'value', min: 0 },
        series: [
          {
            type: 'line',
            name: props.title,
            showSymbol: false,
            smooth: true,
            areaStyle: { opacity: 0.12 },
            lineStyle: { width: 1.5 },
            itemStyle: { color: props.color },
            data: props.points.map((p) => [p.t, p.v]),
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

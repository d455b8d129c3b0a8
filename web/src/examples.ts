// The saved examples of the SQL page: the two dashboard queries of the seed design, and more.
import { tables } from './api';

export const examples: Record<string, string> = {
  'Latest windows (gold)': `SELECT * FROM ${tables.gold} ORDER BY window_start DESC LIMIT 10`,
  'Event-type breakdown, last hour': `SELECT event_type, SUM(event_count) AS total,
  ROUND(SUM(event_count) * 100.0 / SUM(SUM(event_count)) OVER(), 1) AS pct
FROM ${tables.gold}
WHERE window_start >= current_timestamp() - INTERVAL 1 HOUR
GROUP BY event_type ORDER BY total DESC`,
  'Active users per minute (distinct across types)': `SELECT window_start, hll_merge_estimate(users_sketch) AS active_users
FROM ${tables.gold} GROUP BY window_start ORDER BY window_start DESC LIMIT 60`,
  'Conversion to purchase per minute (sessions)': `SELECT date_trunc('minute', session_start) AS minute, count(*) AS sessions,
  round(100.0 * count(*) FILTER (WHERE converted) / count(*), 1) AS conversion_pct, bool_and(is_final) AS final
FROM ${tables.sessions} GROUP BY 1 ORDER BY 1 DESC LIMIT 60`,
};

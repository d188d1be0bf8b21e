-- Stories that spread fastest: hours from first publication to the second outlet (at least 3 outlets).
SELECT s.title, sp.outlets, sp.hours_to_second_outlet, sp.hours_to_last_outlet, sp.outlet_order, s.themes
FROM story_spread sp JOIN stories s USING (story_id)
WHERE sp.outlets >= 3
ORDER BY sp.hours_to_second_outlet, sp.hours_to_last_outlet
LIMIT 10;

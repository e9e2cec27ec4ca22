(function(){
  var errors = [];
  window.addEventListener('error', function(e){ errors.push(String(e.message)); mark(); });
  var origError = console.error;
  console.error = function(){ errors.push(Array.prototype.join.call(arguments, ' ')); mark();
    origError.apply(console, arguments); };
  function mark(){ document.body.setAttribute('data-errors', String(errors.length)); }
  mark();
  // x: seconds since 1970 of each day (UTC), so the axis and the legend show calendar dates
  function day(u, v){ return v == null ? '–' : new Date(v * 1000).toISOString().slice(0, 10); }
  function utc(ts){ return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); }
  var specs = JSON.parse(document.getElementById('chart-data').textContent);
  var drawn = 0;
  specs.forEach(function(spec){
    var el = document.getElementById(spec.id);
    var series = [{label: 'date', value: day}];
    spec.names.forEach(function(name, i){
      series.push({label: name, stroke: spec.colours[i], width: 1.5, spanGaps: false});
    });
    new uPlot({
      title: spec.title,
      width: Math.max(600, Math.min(1150, el.clientWidth || 1150)),
      height: 320,
      tzDate: utc,
      scales: {x: {time: true}},
      axes: [{label: spec.x_label}, {label: spec.y}],
      cursor: {drag: {x: true, y: false}},
      series: series
    }, spec.data, el);
    drawn += 1;
  });
  document.body.setAttribute('data-charts', String(drawn));
})();

// The plant dashboard's charts (Chart.js, vendored), drawn from the plant's JSON endpoints.
// A slot without a reading is null and drawn as a gap: never joined, never interpolated.
"use strict";

// Chart.js (71 kB compressed) is fetched once the page has loaded: on a weak line it would share the
// bandwidth with the stylesheets and hold the first paint back.
(() => {
  const section = document.querySelector("section.charts");
  if (!section) {
    return;
  }
  const start = () => {
    const library = document.createElement("script");
    library.src = section.dataset.chartLibrary;
    library.addEventListener("load", () => drawCharts(section));
    document.head.append(library);
  };
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();

function drawCharts(section) {
  const words = JSON.parse(document.getElementById("chart-words").textContent);
  const lang = document.documentElement.lang || "fr";
  const kw = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  const kwh = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const colours = {
    pv_power: "#f9a825", load_power: "#1e88e5", battery_power: "#43a047", grid_power: "#8e24aa",
    production: "#f9a825", consumption: "#1e88e5", grid_export: "#8e24aa", grid_import: "#c62828",
    battery_charge: "#43a047", battery_discharge: "#2e7d32",
  };
  const common = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
  };

  async function load(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) {
      throw new Error(response.status);
    }
    return response.json();
  }

  // -- power of one day ------------------------------------------------------------------------
  const powerCanvas = document.getElementById("power-chart");
  const powerLabel = section.querySelector("[data-power-label]");
  const gapsNote = section.querySelector("[data-power-gaps]");
  let powerDay = null;
  let power = null;
  const curves = ["pv_power", "load_power", "battery_power", "grid_power"];

  async function drawPower(day) {
    const url = section.dataset.powerUrl + (day ? "?date=" + day : "");
    const data = await load(url);
    powerDay = data;
    powerLabel.textContent = new Intl.DateTimeFormat(lang, { dateStyle: "full" }).format(new Date(data.date + "T12:00:00"));
    const datasets = curves.map((key) => ({
      label: words[key],
      data: data[key].map((w) => (w === null ? null : w / 1000)),
      borderColor: colours[key],
      backgroundColor: colours[key],
      borderWidth: 2,
      pointRadius: 0,
      spanGaps: false,
    }));
    if (power) {
      power.data.labels = data.slots;
      power.data.datasets = datasets;
      power.update();
    } else {
      power = new Chart(powerCanvas, {
        type: "line",
        data: { labels: data.slots, datasets },
        options: {
          ...common,
          scales: {
            x: { ticks: { maxTicksLimit: 8 } },
            y: { title: { display: true, text: words.kw }, ticks: { callback: (v) => kw.format(v) } },
          },
          plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label} : ${c.raw === null ? "–" : kw.format(c.raw)} kW` } } },
        },
      });
    }
    const missing = data.slots.length - data.slots_with_data;
    gapsNote.hidden = missing <= 0;
    section.querySelector("[data-power-step=next]").disabled = !data.next;
    gapsNote.querySelector("small").textContent = words.gaps
      .replace("%(seen)s", data.slots_with_data)
      .replace("%(all)s", data.slots.length);
  }

  section.querySelectorAll("[data-power-step]").forEach((button) => {
    button.addEventListener("click", () => {
      const target = powerDay && powerDay[button.dataset.powerStep];
      if (target) {
        drawPower(target);
      }
    });
  });

  // -- energy bars ------------------------------------------------------------------------------
  const energyCanvas = document.getElementById("energy-chart");
  const energyLabel = section.querySelector("[data-energy-label]");
  const bars = ["production", "consumption", "grid_export", "grid_import", "battery_charge", "battery_discharge"];
  let energy = null;
  let energyData = null;
  let period = "month";

  function barLabel(label) {
    if (period === "month") {
      return new Intl.DateTimeFormat(lang, { day: "numeric" }).format(new Date(label + "T12:00:00"));
    }
    if (period === "year") {
      return new Intl.DateTimeFormat(lang, { month: "short" }).format(new Date(label + "-15T12:00:00"));
    }
    return label;
  }

  function periodTitle(data) {
    if (data.period === "month" && data.date) {
      return new Intl.DateTimeFormat(lang, { month: "long", year: "numeric" }).format(new Date(data.date + "-15T12:00:00"));
    }
    return data.date || section.querySelector("[data-period=total]").textContent;
  }

  async function drawEnergy(date) {
    let url = section.dataset.energyUrl + "?period=" + period;
    if (date) {
      url += "&date=" + date;
    }
    const data = await load(url);
    energyData = data;
    energyLabel.textContent = periodTitle(data);
    const datasets = bars.map((flow) => ({
      label: words[flow],
      data: data.bars.map((b) => b[flow + "_wh"] / 1000),
      backgroundColor: colours[flow],
      hidden: flow.startsWith("battery"),
    }));
    const labels = data.bars.map((b) => barLabel(b.label));
    if (energy) {
      energy.data.labels = labels;
      energy.data.datasets = datasets;
      energy.update();
    } else {
      energy = new Chart(energyCanvas, {
        type: "bar",
        data: { labels, datasets },
        options: {
          ...common,
          scales: { y: { title: { display: true, text: words.kwh }, ticks: { callback: (v) => kwh.format(v) } } },
          plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label} : ${kwh.format(c.raw)} kWh` } } },
        },
      });
    }
    showTotals(data.totals);
    section.querySelector("[data-energy-step=previous]").disabled = !data.previous;
    section.querySelector("[data-energy-step=next]").disabled = !data.next;
  }

  // The period's totals in words under the bars: every flow, the derived PV of a retrofit, the ratios.
  function showTotals(totals) {
    const parts = bars.map((flow) => `${words[flow]} ${kwh.format(totals[flow + "_wh"] / 1000)}\u00a0kWh`);
    if (totals.other_production_wh !== null) {
      parts.push(`${words.other_production} ${kwh.format(totals.other_production_wh / 1000)}\u00a0kWh`);
    }
    for (const key of ["self_consumption_pct", "self_sufficiency_pct"]) {
      if (totals[key] !== null) {
        parts.push(`${words[key]} ${kwh.format(totals[key])}\u00a0%`);
      }
    }
    section.querySelector("[data-energy-totals]").textContent = `${words.total} ${parts.join(" · ")}`;
  }

  section.querySelectorAll("[data-period]").forEach((button) => {
    button.addEventListener("click", () => {
      period = button.dataset.period;
      section.querySelectorAll("[data-period]").forEach((b) => b.setAttribute("aria-pressed", b === button));
      drawEnergy(null);
    });
  });
  section.querySelectorAll("[data-energy-step]").forEach((button) => {
    button.addEventListener("click", () => {
      const target = energyData && energyData[button.dataset.energyStep];
      if (target) {
        drawEnergy(target);
      }
    });
  });

  drawPower(null);
  drawEnergy(null);
}

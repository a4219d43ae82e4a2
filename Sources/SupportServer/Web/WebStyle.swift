/// The one stylesheet of the web pages (the dashboard and the agent console), served at
/// `/assets/ledgerdesk.css`: a page links it, so the content security policy allows no inline
/// style at all.
enum WebStyle {
    static let path = "/assets/ledgerdesk.css"

    static let stylesheet = """
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2127;background:#f2f4f7}
        a{color:#0b5cad}
        header.top{background:#1f3a5f;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;padding:.55rem 1.2rem}
        header.top .brand{font-weight:700;font-size:1.1rem;color:#fff;text-decoration:none}
        header.top nav{display:flex;flex-wrap:wrap;gap:.25rem}
        header.top nav a{color:#dfe8f3;text-decoration:none;padding:.3rem .6rem;border-radius:4px}
        header.top nav a[aria-current=page]{background:#fff;color:#1f3a5f;font-weight:600}
        header.top .user{margin-left:auto;display:flex;gap:.6rem;align-items:center;font-size:.9rem}
        header.top .user form{margin:0}
        header.top button{font:inherit;background:transparent;color:#fff;border:1px solid #9fb3cc;border-radius:4px;padding:.15rem .6rem;cursor:pointer}
        main{max-width:1280px;margin:0 auto;padding:1rem 1.2rem 2rem}
        h1{font-size:1.4rem;margin:.1rem 0 .2rem}
        p.meta{margin:0 0 .8rem;color:#4a5260;font-size:.9rem}
        form.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;background:#fff;padding:.6rem .8rem;border-radius:6px;border:1px solid #dde1e6;margin:0 0 1rem}
        form.controls label{display:flex;flex-direction:column;font-size:.85rem;color:#4a5260;gap:.15rem}
        form.whatif div.controls{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;background:#fff;padding:.6rem .8rem;border-radius:6px;border:1px solid #dde1e6;margin:0 0 1rem}
        form.whatif div.controls label{display:flex;flex-direction:column;font-size:.85rem;color:#4a5260;gap:.15rem}
        select,input,button.primary{font:inherit;padding:.3rem .5rem;border:1px solid #b8c0ca;border-radius:4px;background:#fff}
        button.primary{background:#1f3a5f;color:#fff;border-color:#1f3a5f;cursor:pointer}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:1rem;margin-bottom:1rem}
        .card{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.8rem 1rem;margin:0;min-width:0}
        .card h2{font-size:1.05rem;margin:0}
        .card p.sub{margin:.15rem 0 .4rem;color:#4a5260;font-size:.85rem}
        .card .links{margin:.3rem 0 0;font-size:.85rem}
        svg.chart{display:block;width:100%;height:auto}
        svg.chart-narrow{display:none}
        svg.chart a.drill{cursor:pointer}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:.4rem 0;font-size:.9rem}
        dl.facts dt{font-weight:600}
        dl.facts dd{margin:0}
        .interval h3{font-size:.95rem;margin:.6rem 0 .2rem}
        form.whatif .fields{display:grid;grid-template-columns:max-content minmax(0,24rem);gap:.3rem .6rem;align-items:center}
        form.whatif td input{width:6rem}
        svg.chart a.drill:hover>*,svg.chart a.drill:focus>*{stroke:#222222;stroke-width:2}
        details{margin-top:.3rem;font-size:.85rem}
        .table-wrap{overflow-x:auto;position:relative}
        table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
        th,td{padding:.3rem .5rem;border-bottom:1px solid #e6e9ed;text-align:right;white-space:nowrap}
        th{background:#f6f7f9;font-weight:600}
        th:first-child,td:first-child,th.text,td.text{text-align:left}
        tr.flagged td{background:#fdecee}
        .flag{color:#b00020;font-weight:700}
        .ok{color:#1e7b34}
        .notice.ok{background:#e9f6ec;border-color:#9fd3ab}
        .notice{background:#fff4e5;border:1px solid #f0c68a;border-radius:6px;padding:.6rem .8rem}
        .error{background:#fdecee;border:1px solid #e8a3ab;border-radius:6px;padding:.6rem .8rem;color:#7a0012}
        .signin{max-width:420px;margin:3rem auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1.2rem 1.4rem}
        .signin label{display:block;font-weight:600;margin:.8rem 0 .3rem}
        .signin input{width:100%}
        .signin button{margin-top:.9rem;width:100%;padding:.5rem}
        .card.spaced{margin-bottom:1rem}
        .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        .skip{position:absolute;left:-999px;top:0;background:#fff;color:#0b5cad;padding:.4rem .8rem;z-index:10}
        .skip:focus{left:.5rem}
        :focus-visible{outline:3px solid #d97a00;outline-offset:2px}
        header.top a:focus-visible,header.top button:focus-visible{outline-color:#ffd27a}
        .section-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.3rem 1rem;margin:1.2rem 0 .4rem}
        .section-head h2{font-size:1.1rem;margin:0}
        td.subject{white-space:normal;min-width:14rem;max-width:32rem}
        td.breached,span.breached{color:#b00020;font-weight:700}
        td.soon{color:#8a4b00;font-weight:600}
        tr.selected td{background:#e6f0fb}
        form.inline{display:inline;margin:0}
        button.secondary{font:inherit;padding:.3rem .6rem;border:1px solid #1f3a5f;border-radius:4px;background:#fff;color:#1f3a5f;cursor:pointer}
        .ticket{display:grid;grid-template-columns:minmax(0,1fr) 360px;gap:1rem;align-items:start}
        .ticket .side{display:flex;flex-direction:column;gap:1rem}
        dl.state{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem .8rem;margin:.4rem 0 0;font-size:.9rem}
        dl.state dt{color:#4a5260}
        dl.state dd{margin:0;overflow-wrap:anywhere}
        ol.thread{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:.7rem}
        li.entry{background:#fff;border:1px solid #dde1e6;border-left:4px solid #0b5cad;border-radius:6px;padding:.6rem .8rem}
        li.entry.note{background:#fff8e6;border-left-color:#b36b00}
        li.entry .who{display:flex;flex-wrap:wrap;gap:.2rem .8rem;font-size:.85rem;color:#4a5260;margin-bottom:.3rem}
        li.entry .kind{font-weight:700;color:#1d2127}
        li.entry.note .kind{color:#7a4500}
        .body{white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
        details.quoted{color:#4a5260}
        ul.attachments{margin:.4rem 0 0;padding-left:1.2rem;font-size:.9rem}
        form.stack{display:flex;flex-direction:column;gap:.35rem}
        form.stack label{font-weight:600;font-size:.9rem}
        form.stack .row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}
        form.stack .row > div{display:flex;flex-direction:column;gap:.2rem;flex:1 1 8rem}
        textarea{font:inherit;width:100%;min-height:7rem;padding:.4rem .5rem;border:1px solid #b8c0ca;border-radius:4px;resize:vertical}
        input[type=text],input[type=search]{width:100%}
        input[aria-invalid=true],textarea[aria-invalid=true],select[aria-invalid=true]{border-color:#b00020;border-width:2px}
        .field-error{color:#b00020;font-size:.85rem;margin:0;font-weight:600}
        p.error,p.notice{margin:.4rem 0}
        .hint{color:#4a5260;font-size:.85rem;margin:0}
        details.card > summary{cursor:pointer;font-weight:600}
        fieldset{border:1px solid #dde1e6;border-radius:6px;padding:.5rem .8rem;margin:0;min-width:0}
        legend{font-weight:600;font-size:.9rem;padding:0 .3rem}
        ul.results{padding-left:1.2rem}
        ul.results li.failed{color:#7a0012}
        kbd{font:.8rem ui-monospace,monospace;border:1px solid #b8c0ca;border-bottom-width:2px;border-radius:3px;padding:0 .25rem;background:#fff}
        .pager{margin:.6rem 0}
        .thread-column > section.card{margin-top:1rem}
        details.shortcuts{margin-top:1.2rem}
        li.entry.new{box-shadow:0 0 0 2px #d97a00}
        @media (max-width:700px){
          body{font-size:14px}
          main{padding:.6rem .6rem 1.5rem}
          header.top{padding:.5rem .7rem}
          header.top{gap:.3rem .8rem}
          header.top .brand{order:1}
          header.top .user{order:2;margin-left:auto;font-size:.85rem}
          header.top nav{order:3;width:100%}
          header.top nav a{padding:.2rem .35rem;font-size:.9rem}
          .grid{grid-template-columns:1fr}
          .card{padding:.6rem .6rem}
          svg.chart-wide{display:none}
          svg.chart-narrow{display:block}
          .ticket{grid-template-columns:1fr}
          td.subject{min-width:10rem}
          form.controls{padding:.5rem}
        }
        """
}

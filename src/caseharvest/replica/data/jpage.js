/*
 * jpage: renders a Hanweb column's embedded <datastore> as a paged list.
 * Same contract as Hanweb's /module/web/jpage/jpage.js: the first group of records is
 * embedded in the page (no network needed); later groups are POSTed for to proxyUrl with
 * startrecord/endrecord/perpage and the ajaxParam fields as the form body.
 */
(function (window, document) {
  'use strict';

  var RECORD = /<record>\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*<\/record>/g;

  function parseRecords(xml) {
    var records = [];
    var match;
    RECORD.lastIndex = 0;
    while ((match = RECORD.exec(xml)) !== null) {
      records.push(match[1].replace(/^\s+|\s+$/g, ''));
    }
    return records;
  }

  function formBody(params) {
    var parts = [];
    for (var key in params) {
      if (Object.prototype.hasOwnProperty.call(params, key)) {
        parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(params[key]));
      }
    }
    return parts.join('&');
  }

  function pageLink(page, label, current) {
    if (page === current) {
      return '<span class="current">' + label + '</span>';
    }
    return '<a href="javascript:void(0)" data-page="' + page + '">' + label + '</a>';
  }

  function Pager(container, options, records) {
    this.container = container;
    this.options = options;
    this.perPage = options.perPage || 15;
    this.groupRecords = this.perPage * (options.groupSize || 3);
    this.total = options.totalRecord || records.length;
    this.records = records;
    this.groupStart = 1;
    this.page = 1;
  }

  Pager.prototype.pageCount = function () {
    return Math.max(1, Math.ceil(this.total / this.perPage));
  };

  Pager.prototype.render = function () {
    var first = (this.page - 1) * this.perPage + 1;
    var offset = first - this.groupStart;
    var shown = this.records.slice(offset, offset + this.perPage);
    var pages = this.pageCount();
    var low = Math.max(1, this.page - 2);
    var high = Math.min(pages, low + 4);
    var bar = ['<span class="total">共' + this.total + '条</span>'];
    bar.push(pageLink(1, '首页', this.page));
    bar.push(pageLink(Math.max(1, this.page - 1), '上页', this.page));
    for (var p = low; p <= high; p++) {
      bar.push(pageLink(p, String(p), this.page));
    }
    bar.push(pageLink(Math.min(pages, this.page + 1), '下页', this.page));
    bar.push(pageLink(pages, '尾页', this.page));
    this.container.innerHTML =
      '<ul class="list">' + shown.join('') + '</ul>' +
      '<div class="default_pgContainer">' + bar.join(' ') + '</div>';
    var self = this;
    var links = this.container.getElementsByTagName('a');
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute('data-page')) {
        links[i].onclick = function () {
          self.go(parseInt(this.getAttribute('data-page'), 10));
          return false;
        };
      }
    }
  };

  Pager.prototype.go = function (page) {
    var start = Math.floor(((page - 1) * this.perPage) / this.groupRecords) * this.groupRecords + 1;
    if (start === this.groupStart) {
      this.page = page;
      this.render();
      return;
    }
    var end = start + this.groupRecords - 1;
    var url = this.options.proxyUrl + '?startrecord=' + start + '&endrecord=' + end +
      '&perpage=' + this.perPage;
    var xhr = new XMLHttpRequest();
    var self = this;
    xhr.open('POST', url, true);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
    xhr.onload = function () {
      var records = parseRecords(xhr.responseText);
      var total = /<totalrecord>(\d+)<\/totalrecord>/.exec(xhr.responseText);
      if (total) {
        self.total = parseInt(total[1], 10);
      }
      // Later groups repeat the last record of the group before: drop it.
      var expected = Math.min(end, self.total) - start + 1;
      if (records.length > expected) {
        records.shift();
      }
      self.records = records;
      self.groupStart = start;
      self.page = page;
      self.render();
    };
    xhr.send(formBody(this.options.ajaxParam || {}));
  };

  function jpage(options) {
    var unit = String((options.ajaxParam || {}).unitid || options.containerId || '');
    var container = document.getElementById(unit);
    if (!container) {
      return null;
    }
    var store = container.getElementsByTagName('script')[0];
    var xml = store ? (store.text || store.textContent || store.innerHTML || '') : '';
    var pager = new Pager(container, options, parseRecords(xml));
    pager.render();
    return pager;
  }

  window.jpage = jpage;
})(window, document);

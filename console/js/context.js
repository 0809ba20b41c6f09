// State shared by the pages for one login: config.json, and lists fetched once (branch codes, products).

import { api } from './api.js';

export const context = {
  config: {},
  _branches: null,
  _products: null,

  reset() {
    this._branches = null;
    this._products = null;
  },

  /** Branch codes the console knows of: config.json's "branches", the dashboard's, the operator's own. */
  async branches(operator) {
    if (!this._branches) {
      const codes = new Set(this.config.branches || []);
      if (operator && operator.branch_code) codes.add(operator.branch_code);
      try {
        const board = await api('/backoffice/dashboard');
        for (const row of [...(board.disbursed_by_branch || []), ...(board.quota_use || [])]) {
          if (row.branch_code) codes.add(row.branch_code);
        }
      } catch { /* the dashboard is not essential here */ }
      this._branches = [...codes].sort();
    }
    return this._branches;
  },

  /** Product codes: GET /backoffice/products, else config.json's "products". */
  async products() {
    if (!this._products) {
      let codes = [];
      try {
        const answer = await api('/backoffice/products');
        codes = (answer.items || answer.products || []).map((p) => p.product_code || p.code || (p.product && (p.product.product_code || p.product.code))).filter(Boolean);
      } catch { /* not there yet, or not allowed */ }
      this._products = [...new Set([...codes, ...(this.config.products || [])])].sort();
    }
    return this._products;
  },
};

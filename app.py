"""recviz dashboard entry point: page set-up and navigation only; the pages live in recviz/ui/."""

import streamlit as st

from recviz.ui import data_overview, population, workbench

st.set_page_config(page_title="recviz", page_icon=":material/hub:", layout="wide")
st.navigation(
    [
        st.Page(workbench.page, title="Workbench", icon=":material/insights:", url_path="workbench",
                default=True),
        st.Page(data_overview.page, title="Data set", icon=":material/table_chart:", url_path="data"),
        st.Page(population.page, title="Population", icon=":material/groups:", url_path="population"),
    ]
).run()
